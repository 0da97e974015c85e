// Connection sync as the admin API shows it (GET /v1/sync, `sluicectl sync`): per peer whether it is
// alive, how long since it was last heard and whether its LIPs are answered here; datagrams and records
// sent and received; records deferred by the bandwidth bound; datagrams refused, by reason.

/// The sync status at the last round.
public struct SyncStatus: Codable, Sendable, Equatable {
    public struct Peer: Codable, Sendable, Equatable {
        public var endpoint: String
        public var alive: Bool
        /// Seconds since the last datagram from it (nil: never heard).
        public var silenceSeconds: Double?
        public var adopted: Bool
        public var localAddresses: [String]

        public init(endpoint: String, alive: Bool, silenceSeconds: Double?, adopted: Bool, localAddresses: [String]) {
            self.endpoint = endpoint
            self.alive = alive
            self.silenceSeconds = silenceSeconds
            self.adopted = adopted
            self.localAddresses = localAddresses
        }
    }

    public var peers: [Peer] = []
    public var datagramsSent: UInt64 = 0
    public var recordsSent: UInt64 = 0
    public var datagramsReceived: UInt64 = 0
    public var recordsReceived: UInt64 = 0
    /// Records not sent because the round's datagram budget was spent (the refresh sends them later).
    public var recordsDeferred: UInt64 = 0
    public var refused: [String: UInt64] = [:]

    public init() {}
}
