// The ICMP errors Sluice originates (docs/protocol.md §3): time exceeded when it decrements TTL to zero,
// and fragmentation needed / packet too big when a DF packet exceeds the egress MTU.

/// An ICMP error Sluice can send back to a packet's sender.
public enum ICMPErrorKind: Sendable, Equatable {
    /// ICMPv4 type 11 code 0 / ICMPv6 type 3 code 0 (hop limit exceeded in transit).
    case timeExceeded
    /// ICMPv4 type 3 code 4 with the next-hop MTU (RFC 1191). On IPv6 it becomes a Packet Too Big.
    case fragmentationNeeded(mtu: UInt16)
    /// ICMPv6 type 2 with the MTU (RFC 4443 §3.2). On IPv4 it becomes fragmentation needed, the MTU
    /// clamped to 65535.
    case packetTooBig(mtu: UInt32)
    /// ICMPv4 type 3 / ICMPv6 type 1 with `code` written as given (the two families number their
    /// codes differently: port unreachable is 3 in ICMPv4, 4 in ICMPv6).
    case destinationUnreachable(code: UInt8)
}
