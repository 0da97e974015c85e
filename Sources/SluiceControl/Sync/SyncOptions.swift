// `sync:` — connection sync between the gateways of a VIP (docs/sync.md): where this gateway listens,
// its peers, the shared key, how often live connections are sent again and when a silent peer is dead.

import SluicePacket

/// The `sync` section; absent means sync is off.
public struct SyncOptions: Sendable, Hashable {
    /// A UDP endpoint.
    public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
        public var address: IPAddress
        public var port: Int

        public init(address: IPAddress, port: Int) {
            self.address = address
            self.port = port
        }

        public var description: String { address.isV6 ? "[\(address)]:\(port)" : "\(address):\(port)" }
    }

    public var listen: Endpoint
    public var peers: [Endpoint]
    /// At least 16 random bytes in any form (as `synproxy.key_file`).
    public var keyFile: String
    /// Every live connection is sent again this often, so a peer's copy never idles out.
    public var refreshMilliseconds = SyncOptions.defaultRefreshMilliseconds
    /// A peer silent this long is dead: its LIPs are taken over.
    public var deadAfterMilliseconds = SyncOptions.defaultDeadAfterMilliseconds

    public static let defaultRefreshMilliseconds = 10_000
    public static let defaultDeadAfterMilliseconds = 3_000
    /// Connection events a worker holds between two collections.
    public static let outboxCapacity = 65_536

    public init(listen: Endpoint, peers: [Endpoint], keyFile: String) {
        self.listen = listen
        self.peers = peers
        self.keyFile = keyFile
    }
}
