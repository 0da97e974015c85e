// Per-second rates over the last sampling interval: ipvsadm `--rate` (CPS, InPPS, OutPPS, InBPS, OutBPS).

/// Rates per second, estimated from two samples of `TrafficStats`.
public struct TrafficRate: Codable, Sendable, Equatable {
    public var connectionsPerSecond: UInt64
    public var inPacketsPerSecond: UInt64
    public var outPacketsPerSecond: UInt64
    public var inBytesPerSecond: UInt64
    public var outBytesPerSecond: UInt64

    public init(
        connectionsPerSecond: UInt64 = 0, inPacketsPerSecond: UInt64 = 0, outPacketsPerSecond: UInt64 = 0,
        inBytesPerSecond: UInt64 = 0, outBytesPerSecond: UInt64 = 0
    ) {
        self.connectionsPerSecond = connectionsPerSecond
        self.inPacketsPerSecond = inPacketsPerSecond
        self.outPacketsPerSecond = outPacketsPerSecond
        self.inBytesPerSecond = inBytesPerSecond
        self.outBytesPerSecond = outBytesPerSecond
    }

    /// The rate between two samples `seconds` apart (counters that went backwards give 0).
    public init(from old: TrafficStats, to new: TrafficStats, seconds: Double) {
        func rate(_ a: UInt64, _ b: UInt64) -> UInt64 {
            guard seconds > 0, b >= a else { return 0 }
            return UInt64((Double(b - a) / seconds).rounded())
        }
        self.init(
            connectionsPerSecond: rate(old.connections, new.connections),
            inPacketsPerSecond: rate(old.inPackets, new.inPackets),
            outPacketsPerSecond: rate(old.outPackets, new.outPackets),
            inBytesPerSecond: rate(old.inBytes, new.inBytes), outBytesPerSecond: rate(old.outBytes, new.outBytes))
    }
}
