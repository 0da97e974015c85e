// Small value types shared by the connection table, the timer wheel and the data plane.

/// Index of an entry in a `ConnectionTable` (0..<capacity). Also the timer wheel's handle.
public typealias ConnectionID = Int32

/// Which of a connection's two keys a packet matched.
public enum FlowDirection: UInt8, Sendable, Hashable {
    /// Client → VIP (IPVS "INPUT"): the packet's tuple equals the connection's inbound key.
    case inbound = 0
    /// Real server → LIP (IPVS "OUTPUT"): the packet's tuple equals the connection's outbound key.
    case outbound = 1
}
