// Counters of a virtual server or real server as the admin API reports them: ipvsadm's `--stats`
// columns (connections, packets and bytes in each direction) and `--rate` columns.

/// Totals since start: ipvsadm `--stats`.
public struct TrafficStats: Codable, Sendable, Equatable {
    /// Connections scheduled.
    public var connections: UInt64
    /// Packets and bytes from clients (to the real servers).
    public var inPackets: UInt64
    public var inBytes: UInt64
    /// Packets and bytes from the real servers (to the clients).
    public var outPackets: UInt64
    public var outBytes: UInt64

    public init(
        connections: UInt64 = 0, inPackets: UInt64 = 0, inBytes: UInt64 = 0, outPackets: UInt64 = 0,
        outBytes: UInt64 = 0
    ) {
        self.connections = connections
        self.inPackets = inPackets
        self.inBytes = inBytes
        self.outPackets = outPackets
        self.outBytes = outBytes
    }

    public mutating func add(_ other: TrafficStats) {
        connections &+= other.connections
        inPackets &+= other.inPackets
        inBytes &+= other.inBytes
        outPackets &+= other.outPackets
        outBytes &+= other.outBytes
    }
}
