// `sync:` — listen, peers, key_file, refresh, dead_after (docs/sync.md).

import SluicePacket
import Yams

extension ConfigurationReader {
    static let syncKeys = ["listen", "peers", "key_file", "refresh", "dead_after"]
    /// Most peers: each gets every event, so the sender's bandwidth grows with them.
    static let maximumSyncPeers = 16

    func readSync(_ node: Node, at path: String) -> SyncOptions? {
        guard let f = fields(of: node, at: path, allowed: Self.syncKeys, required: ["listen", "peers", "key_file"])
        else { return nil }
        func at(_ key: String) -> String { Self.child(path, key) }
        func endpoint(_ node: Node, at path: String) -> SyncOptions.Endpoint? {
            guard let text = string(node, at: path) else { return nil }
            guard let (host, port) = Self.hostPort(text), let address = IPAddress(host) else {
                error(path, "expected ADDRESS:PORT such as 10.99.0.1:8848 or [fd00::1]:8848", at: node)
                return nil
            }
            return SyncOptions.Endpoint(address: address, port: port)
        }
        let listen = f["listen"].flatMap { endpoint($0, at: at("listen")) }
        var peers: [SyncOptions.Endpoint]?
        if let node = f["peers"] {
            if case .sequence(let items) = node, !items.isEmpty, items.count <= Self.maximumSyncPeers {
                let read = items.enumerated().map { endpoint($0.element, at: "\(at("peers"))[\($0.offset)]") }
                if read.allSatisfy({ $0 != nil }) { peers = read.compactMap { $0 } }
            } else {
                error(at("peers"), "expected a list of 1 to \(Self.maximumSyncPeers) ADDRESS:PORT entries", at: node)
            }
        }
        let keyFile = f["key_file"].flatMap { absolutePath($0, at: at("key_file")) }
        guard let listen, let peers, let keyFile else { return nil }
        if let clash = peers.first(where: { $0 == listen }) {
            error(at("peers"), "\(clash) is this gateway's own listen address", at: node)
            return nil
        }
        var options = SyncOptions(listen: listen, peers: peers, keyFile: keyFile)
        var complete = true
        if let refresh = f["refresh"] {
            if let ms = milliseconds(refresh, at: at("refresh"), minimum: 1000) {
                options.refreshMilliseconds = ms
            } else {
                complete = false
            }
        }
        if let dead = f["dead_after"] {
            if let ms = milliseconds(dead, at: at("dead_after"), minimum: 500) {
                options.deadAfterMilliseconds = ms
            } else {
                complete = false
            }
        }
        return complete ? options : nil
    }
}
