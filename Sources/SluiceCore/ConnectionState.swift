// Connection states, in the order and with the names of the IPVS TCP state table
// (net/netfilter/ipvs/ip_vs_proto_tcp.c), plus the two UDP pseudo-states.

/// The state of a connection-table entry.
public enum ConnectionState: UInt8, Sendable, CaseIterable {
    case none = 0
    case established
    case synSent
    case synRecv
    case finWait
    case timeWait
    case close
    case closeWait
    case lastAck
    case listen
    case synAck
    /// UDP before the first reply.
    case udpOneway
    /// UDP after a reply was seen.
    case udpNormal
}
