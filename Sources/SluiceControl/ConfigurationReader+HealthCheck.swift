// `health_check:` of a virtual server (the default of its real servers) and of a real server (its
// own), plus the keys that say what a failed server means for its service: `inhibit_on_failure`,
// `quorum`, `sorry_server`. Keepalived's and HAProxy's vocabulary; durations take `ms` too.

import SluicePacket
import Yams

extension ConfigurationReader {
    static let healthCheckKeys = ["type", "interval", "timeout", "rise", "fall", "port", "source", "http", "exec"]
    static let httpCheckKeys = ["path", "expect_status", "host"]
    static let execCheckKeys = ["command"]
    static let endpointKeys = ["address", "port"]
    /// Checks more often than this would only load the real servers.
    static let minimumCheckIntervalMilliseconds = 100
    static let maximumRiseFall = 100

    /// A `health_check:` mapping, starting from `base` (the virtual server's check for a real server's
    /// override). Nil after recording problems.
    func readHealthCheck(_ node: Node, at path: String, base: HealthCheck = HealthCheck()) -> HealthCheck? {
        guard let f = fields(of: node, at: path, allowed: Self.healthCheckKeys) else { return nil }
        func at(_ key: String) -> String { Self.child(path, key) }
        var check = base
        var complete = true
        if let node = f["type"] {
            if let kind = choice(node, at: at("type"), of: HealthCheck.Kind.self) {
                check.kind = kind
            } else {
                complete = false
            }
        } else if base.kind == .none {
            // A mapping that names no type is a TCP check, the usual meaning of "check this server".
            check.kind = .tcp
        }
        if let node = f["interval"] {
            if let ms = milliseconds(node, at: at("interval"), minimum: Self.minimumCheckIntervalMilliseconds) {
                check.intervalMilliseconds = ms
            } else {
                complete = false
            }
        }
        if let node = f["timeout"] {
            if let ms = milliseconds(node, at: at("timeout"), minimum: 1) {
                check.timeoutMilliseconds = ms
            } else {
                complete = false
            }
        }
        if let node = f["rise"] {
            if let n = integer(node, at: at("rise"), in: 1...Self.maximumRiseFall) {
                check.rise = n
            } else {
                complete = false
            }
        }
        if let node = f["fall"] {
            if let n = integer(node, at: at("fall"), in: 1...Self.maximumRiseFall) {
                check.fall = n
            } else {
                complete = false
            }
        }
        if let node = f["port"] {
            if let n = integer(node, at: at("port"), in: 1...65535) { check.port = UInt16(n) } else { complete = false }
        }
        if let node = f["source"] {
            if let address = address(node, at: at("source")) { check.source = address } else { complete = false }
        }
        if let node = f["http"] {
            if let http = readHTTPCheck(node, at: at("http"), base: check.http) {
                check.http = http
            } else {
                complete = false
            }
            if check.kind != .http, f["type"] != nil {
                error(at("http"), "http settings need type: http", at: node)
                complete = false
            }
        }
        if let node = f["exec"] {
            if let command = readExecCheck(node, at: at("exec")) { check.command = command } else { complete = false }
        }
        if check.kind == .exec && check.command.isEmpty {
            error(at("exec"), "type exec needs exec: { command: [program, args...] }", at: node)
            complete = false
        }
        if check.timeoutMilliseconds > check.intervalMilliseconds, f["timeout"] != nil || f["interval"] != nil {
            error(
                at("timeout"),
                "timeout \(check.timeoutMilliseconds)ms is longer than the interval \(check.intervalMilliseconds)ms",
                at: f["timeout"] ?? node)
            complete = false
        }
        return complete ? check : nil
    }

    func readHTTPCheck(_ node: Node, at path: String, base: HealthCheck.HTTP) -> HealthCheck.HTTP? {
        guard let f = fields(of: node, at: path, allowed: Self.httpCheckKeys) else { return nil }
        var http = base
        var complete = true
        if let node = f["path"] {
            if let text = string(node, at: Self.child(path, "path")), text.hasPrefix("/"),
                !text.contains(where: { $0 == " " || $0 == "\r" || $0 == "\n" })
            {
                http.path = text
            } else {
                error(Self.child(path, "path"), "expected a path starting with / and without spaces", at: node)
                complete = false
            }
        }
        if let node = f["host"] {
            if let text = string(node, at: Self.child(path, "host")), !text.isEmpty,
                !text.contains(where: { $0 == " " || $0 == "\r" || $0 == "\n" })
            {
                http.host = text
            } else {
                error(Self.child(path, "host"), "expected a host name without spaces", at: node)
                complete = false
            }
        }
        if let node = f["expect_status"] {
            let statusPath = Self.child(path, "expect_status")
            var ranges: [ClosedRange<Int>] = []
            let items: [Node]
            if case .sequence = node { items = sequence(node, at: statusPath) ?? [] } else { items = [node] }
            for (index, item) in items.enumerated() {
                let itemPath = Self.element(statusPath, index)
                guard let text = item.scalar?.string, let range = Self.statusRange(text) else {
                    error(itemPath, "expected a status code or range such as 200 or \"200-299\"", at: item)
                    complete = false
                    continue
                }
                ranges.append(range)
            }
            if ranges.isEmpty && complete {
                error(statusPath, "needs at least one status code", at: node)
                complete = false
            }
            http.expectStatus = ranges
        }
        return complete ? http : nil
    }

    /// `200`, `"200-299"`: HTTP status codes 100...599.
    static func statusRange(_ text: String) -> ClosedRange<Int>? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2,
            let low = Int(parts[0].trimmingCharacters(in: .whitespaces)),
            let high = Int(parts[parts.count - 1].trimmingCharacters(in: .whitespaces)),
            (100...599).contains(low), (100...599).contains(high), low <= high
        else { return nil }
        return low...high
    }

    func readExecCheck(_ node: Node, at path: String) -> [String]? {
        guard let f = fields(of: node, at: path, allowed: Self.execCheckKeys, required: ["command"]) else { return nil }
        guard let list = f["command"] else { return nil }
        let commandPath = Self.child(path, "command")
        guard let items = sequence(list, at: commandPath) else { return nil }
        var command: [String] = []
        for (index, item) in items.enumerated() {
            guard let word = string(item, at: Self.element(commandPath, index)) else { return nil }
            command.append(word)
        }
        guard let program = command.first, program.hasPrefix("/") else {
            error(commandPath, "the command must start with an absolute program path", at: list)
            return nil
        }
        return command
    }

    /// `{ address: A, port: P }` (`sorry_server`).
    func readEndpoint(_ node: Node, at path: String, defaultPort: UInt16?) -> VirtualServer.Endpoint? {
        guard let f = fields(of: node, at: path, allowed: Self.endpointKeys, required: ["address"]) else { return nil }
        let addressPath = Self.child(path, "address")
        guard let addressNode = f["address"], let address = address(addressNode, at: addressPath),
            usable(address, at: addressPath, node: addressNode)
        else { return nil }
        var port = defaultPort
        if let node = f["port"] {
            guard let n = integer(node, at: Self.child(path, "port"), in: 1...65535) else { return nil }
            port = UInt16(n)
        }
        guard let port else { return nil }
        return VirtualServer.Endpoint(address: address, port: port)
    }

    /// A duration in milliseconds: an integer (seconds), or number+unit parts (`500ms`, `2s`, `1m`).
    func milliseconds(_ node: Node, at path: String, minimum: Int) -> Int? {
        var value: Int?
        if Self.kind(node) == .int {
            guard decimal(node, at: path) else { return nil }
        }
        if Self.kind(node) == .int, let seconds = node.int {
            value = seconds.multipliedReportingOverflow(by: 1000).overflow ? nil : seconds * 1000
        } else if Self.kind(node) == .str, let text = node.scalar?.string {
            value = Self.parseMilliseconds(text)
        }
        guard let value else {
            error(
                path, "expected a duration such as \"500ms\", \"2s\" or \"1m\", found \(Self.describe(node))", at: node)
            return nil
        }
        guard value >= minimum && value <= Self.maximumDuration * 1000 else {
            error(path, "duration \(value)ms is out of range (\(minimum)ms...30d)", at: node)
            return nil
        }
        return value
    }

    /// A sorry server must be of the VIP's family and not a LIP; a check's source must not be a LIP
    /// (checks leave from the host's own addresses; a LIP's replies belong to the data plane).
    func checkHealthSettings(of server: VirtualServerDraft, lipOwners: [IPAddress: String]) {
        let path = server.path
        if let sorry = server.sorryServer ?? nil, let node = server.nodes["sorry_server"] {
            if let vip = server.vip, sorry.address.isV6 != vip.isV6 {
                error(
                    Self.child(path, "sorry_server.address"),
                    "\(sorry.address) is not of the VIP's address family (FULLNAT does not translate between IPv4 and IPv6)",
                    at: node)
            }
            if let lip = lipOwners[sorry.address] {
                error(
                    Self.child(path, "sorry_server.address"), "\(sorry.address) is a local address (\(lip))", at: node)
            }
        }
        var sources: [(String, IPAddress)] = []
        if let source = server.healthCheck?.source { sources.append((Self.child(path, "health_check.source"), source)) }
        for rs in server.realServers {
            if let source = rs.healthCheck?.source, source != server.healthCheck?.source {
                sources.append((Self.child(rs.path, "health_check.source"), source))
            }
        }
        for (sourcePath, source) in sources {
            if let lip = lipOwners[source] {
                error(
                    sourcePath,
                    "\(source) is a local address (\(lip)); checks leave from the host's own addresses, never a LIP",
                    at: server.nodes["health_check"] ?? server.node)
            }
        }
    }
}
