// A route mirrored from one of the kernel's routing tables (RTM_NEWROUTE): its table, prefix, output
// interface, gateway, MTU and metric, and for a multipath route every live next hop with its weight.
// Reject routes (blackhole, unreachable, prohibit) end a lookup as they would in the kernel; a throw
// route ends the lookup in its table and the ip rules go on with the next rule.

import SluicePacket

/// A unicast route: destination prefix, output interface, optional gateway.
public struct Route: Sendable, Hashable {
    public var prefix: IPAddress
    public var prefixLength: UInt8
    public var interfaceIndex: Int32
    /// nil for a directly connected prefix: the destination itself is the next hop.
    public var gateway: IPAddress?
    /// Route MTU (RTAX_MTU) when set, else 0: the interface MTU applies.
    public var mtu: Int
    /// Lower wins among equal prefixes (RTA_PRIORITY).
    public var metric: UInt32
    /// Whether a match forwards, rejects (blackhole, unreachable, prohibit) or throws.
    public var kind: Kind
    /// The routing table (RTA_TABLE): 254 (main) unless set.
    public var table: UInt32
    /// A multipath route's next hops (two or more); empty for a route with the one next hop above
    /// (`interfaceIndex`, `gateway`, which for a multipath route repeat its first hop).
    public var hops: [RouteHop]

    /// What the kernel does with a packet whose longest match is this route.
    public enum Kind: Sendable, Hashable {
        /// RTN_UNICAST: forward through `interfaceIndex`, to `gateway` when set.
        case unicast
        /// RTN_BLACKHOLE, RTN_UNREACHABLE, RTN_PROHIBIT: the kernel would not forward, so neither does
        /// Sluice; a less specific route is *not* tried, nor is the next ip rule.
        case reject
        /// RTN_THROW: no route in this table (a less specific route of it is not tried); the ip rules go
        /// on with the next rule, as fib_rules_lookup does on EAGAIN.
        case `throw`
    }

    public init(
        prefix: IPAddress, prefixLength: UInt8, interfaceIndex: Int32, gateway: IPAddress?, mtu: Int = 0,
        metric: UInt32 = 0, kind: Kind = .unicast, hops: [RouteHop] = [], table: UInt32 = 254
    ) {
        self.table = table
        self.hops = hops
        self.prefix = prefix
        self.prefixLength = prefixLength
        self.interfaceIndex = interfaceIndex
        self.gateway = gateway
        self.mtu = mtu
        self.metric = metric
        self.kind = kind
    }
}
