// `admin:` (the admin API's unix socket) and `metrics:` (the Prometheus endpoint).

import SluicePacket
import Yams

extension ConfigurationReader {
    static let adminKeys = ["socket"]
    static let metricsKeys = ["listen"]

    func readAdmin(_ node: Node, at path: String) -> SluiceConfiguration.AdminOptions? {
        guard let f = fields(of: node, at: path, allowed: Self.adminKeys) else { return nil }
        var options = SluiceConfiguration.AdminOptions()
        if let socket = f["socket"] {
            let socketPath = Self.child(path, "socket")
            guard let text = string(socket, at: socketPath) else { return nil }
            // sockaddr_un holds 108 bytes including the terminating NUL.
            guard text.hasPrefix("/"), text.utf8.count < 108, !text.hasSuffix("/") else {
                error(socketPath, "expected an absolute path of at most 107 bytes", at: socket)
                return nil
            }
            options.socket = text
        }
        return options
    }

    func readMetrics(_ node: Node, at path: String) -> SluiceConfiguration.MetricsOptions? {
        guard let f = fields(of: node, at: path, allowed: Self.metricsKeys) else { return nil }
        var options = SluiceConfiguration.MetricsOptions()
        if let listen = f["listen"] {
            let listenPath = Self.child(path, "listen")
            guard let text = string(listen, at: listenPath) else { return nil }
            guard let endpoint = Self.hostPort(text) else {
                error(listenPath, "expected ADDRESS:PORT such as 127.0.0.1:9810 or [::1]:9810", at: listen)
                return nil
            }
            options.listen = endpoint
        }
        return options
    }

    /// `127.0.0.1:9810`, `[::1]:9810` → (address, port); the address must be an IP address.
    static func hostPort(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port),
            IPAddress(host) != nil
        else { return nil }
        return (host, port)
    }
}
