// What a route lookup knows about the packet besides its destination: the selectors of ip rules
// (ip-rule(8): from, ipproto, sport, dport) look at these. Sluice's translated packets are, to the
// kernel, like an LVS FULLNAT gateway's locally output packets: the source is the LIP towards a real
// server and the VIP towards a client, the protocol and ports are the translated ones.

import SluicePacket

/// The source, IP protocol and ports of the packet a route is looked up for.
public struct RouteQuery: Sendable, Hashable {
    public var source: IPAddress
    /// IP protocol number (6 TCP, 17 UDP, 1 / 58 ICMP); 0 when not known.
    public var transport: UInt8
    public var sourcePort: UInt16
    public var destinationPort: UInt16

    @inlinable
    public init(source: IPAddress, transport: UInt8 = 0, sourcePort: UInt16 = 0, destinationPort: UInt16 = 0) {
        self.source = source
        self.transport = transport
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
    }

    /// Nothing known but the family: the unspecified source (0.0.0.0 or ::), no protocol, no ports.
    /// Only rules that select by destination (or nothing) can match a specific source then.
    @inlinable
    public static func unspecified(v6: Bool) -> RouteQuery { RouteQuery(source: .zero(v6: v6)) }

    /// What NetworkView.relevantPart(of:) leaves of any query when no rule selects by more than the
    /// destination (the kernel's default rules): nothing.
    public static let destinationOnly = RouteQuery(source: IPAddress(v4: 0))

    /// IP protocol numbers (IANA): what Sluice's own answers (RSTs, SYN-ACKs, ICMP errors) carry.
    public static let tcp: UInt8 = 6
    public static let icmpV4: UInt8 = 1
    public static let icmpV6: UInt8 = 58

    /// An ICMP error of the family, from `source` (ICMP has no ports; the kernel's type/code
    /// selectors are not ip rule selectors).
    @inlinable
    public static func icmp(from source: IPAddress) -> RouteQuery {
        RouteQuery(source: source, transport: source.isV6 ? icmpV6 : icmpV4)
    }

    /// A TCP segment from `source`:`sourcePort` to port `destinationPort`.
    @inlinable
    public static func tcp(from source: IPAddress, port sourcePort: UInt16, to destinationPort: UInt16) -> RouteQuery {
        RouteQuery(source: source, transport: tcp, sourcePort: sourcePort, destinationPort: destinationPort)
    }

    /// Field by field, without going through the synthesised Equatable (kept in line on the hot path).
    @inlinable @inline(__always)
    func same(as other: RouteQuery) -> Bool {
        source.high == other.source.high && source.low == other.source.low && transport == other.transport
            && sourcePort == other.sourcePort && destinationPort == other.destinationPort
    }
}
