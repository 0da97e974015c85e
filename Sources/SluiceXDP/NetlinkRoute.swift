// A route as an RTM_NEWROUTE / RTM_DELROUTE message describes it (rtmsg + RTA_* attributes).
//
// - Gateways come from RTA_GATEWAY (same family) or RTA_VIA (RFC 5549: an IPv4 route via an IPv6 next hop).
// - Multipath routes (RTA_MULTIPATH) keep every next hop that is not dead, with its weight
//   (rtnh_hops + 1); the data plane spreads connections over them (NetworkView.nextHop(to:flowHash:)),
//   so two routers in front of the real servers share the load. The first live hop also fills
//   interfaceIndex/gateway.
// - Routes that use nexthop objects (RTA_NH_ID) are read through the legacy attributes the kernel adds
//   while net.ipv4.nexthop_compat_mode is 1 (its default).
// - Cached clones (RTM_F_CLONED: IPv6 PMTU exceptions) and routes whose only next hop is dead are skipped,
//   and so are types that do not forward (local, broadcast, multicast, anycast, nat): the local table's
//   local and broadcast routes among them. A throw route is kept (the ip rules go on past it).
// - Each route keeps its table (RTA_TABLE): the mirror follows every table the ip rules can reach, or
//   the one `interfaces.route_table` names.

import SluiceCore
import SluicePacket

/// A route record decoded from rtnetlink.
struct NetlinkRoute: Sendable, Hashable {
    var destination: IPAddress
    var prefixLength: UInt8
    var tos: UInt8
    /// RTA_TABLE when present, else rtm_table.
    var table: UInt32
    /// RTN_* type.
    var type: UInt8
    /// rtm_flags.
    var flags: UInt32
    /// RTA_PRIORITY (the metric).
    var priority: UInt32
    var interfaceIndex: Int32
    var gateway: IPAddress?
    /// RTAX_MTU, 0 when unset.
    var mtu: Int
    /// False when every next hop is marked dead (RTNH_F_DEAD).
    var alive: Bool
    /// The live next hops of a multipath route (two or more), else empty.
    var hops: [RouteHop] = []

    /// What makes two routes "the same slot" for the kernel: a replace swaps every route with this key.
    struct Key: Hashable, Sendable {
        var table: UInt32
        var destination: IPAddress
        var prefixLength: UInt8
        var tos: UInt8
        var priority: UInt32
    }

    /// The key plus the next hop: one entry of the mirrored table.
    struct Identity: Hashable, Sendable {
        var key: Key
        var interfaceIndex: Int32
        var gateway: IPAddress?
    }

    var key: Key {
        Key(table: table, destination: destination, prefixLength: prefixLength, tos: tos, priority: priority)
    }
    var identity: Identity { Identity(key: key, interfaceIndex: interfaceIndex, gateway: gateway) }

    /// How the data plane treats the route: nil for types it ignores.
    var kind: Route.Kind? {
        switch type {
        case Netlink.typeUnicast: .unicast
        case Netlink.typeBlackhole, Netlink.typeUnreachable, Netlink.typeProhibit: .reject
        case Netlink.typeThrow: .throw
        default: nil
        }
    }

    /// True when the route belongs in a mirror of `table` (nil: of every table): the right table, a type
    /// that matters, not a cached clone, and (when `requireAlive`) a live next hop if it forwards.
    func belongs(to table: UInt32?, requireAlive: Bool) -> Bool {
        guard table == nil || self.table == table, let kind, flags & Netlink.routeFlagCloned == 0 else {
            return false
        }
        return !requireAlive || kind != .unicast || alive
    }

    /// The route as NetworkView takes it. Only meaningful when `kind` is not nil.
    var route: Route {
        Route(
            prefix: destination, prefixLength: prefixLength, interfaceIndex: interfaceIndex, gateway: gateway, mtu: mtu,
            metric: priority, kind: kind ?? .reject, hops: hops, table: table)
    }

    /// Decodes an rtmsg payload. Nil when it is too short, not IPv4 or IPv6, or has a prefix length or
    /// destination that does not fit the family.
    static func decode(_ payload: ArraySlice<UInt8>) -> NetlinkRoute? {
        let reader = NetlinkReader(payload)
        guard payload.count >= Netlink.routeMessageSize, let family = reader.u8(at: 0),
            family == Netlink.inet || family == Netlink.inet6, let length = reader.u8(at: 1),
            let tos = reader.u8(at: 3), let table = reader.u8(at: 4), let type = reader.u8(at: 7),
            let flags = reader.u32(at: 8)
        else { return nil }
        let v6 = family == Netlink.inet6
        guard length <= (v6 ? 128 : 32) else { return nil }
        var route = NetlinkRoute(
            destination: .zero(v6: v6), prefixLength: length, tos: tos, table: UInt32(table), type: type, flags: flags,
            priority: 0, interfaceIndex: 0, gateway: nil, mtu: 0, alive: flags & UInt32(Netlink.nextHopDead) == 0)
        for (attributeType, value) in NetlinkAttributes(in: payload, after: Netlink.routeMessageSize) {
            switch attributeType {
            case Netlink.routeDestination:
                guard let destination = NetlinkReader.address(value, v6: v6) else { return nil }
                route.destination = destination
            case Netlink.routeOutputInterface:
                route.interfaceIndex = NetlinkReader(value).i32(at: 0) ?? 0
            case Netlink.routeGateway:
                route.gateway = NetlinkReader.address(value, v6: v6)
            case Netlink.routeVia:
                route.gateway = via(value)
            case Netlink.routePriority:
                route.priority = NetlinkReader(value).u32(at: 0) ?? 0
            case Netlink.routeTable:
                route.table = NetlinkReader(value).u32(at: 0) ?? route.table
            case Netlink.routeMetrics:
                for (metric, metricValue) in NetlinkAttributes(value) where metric == Netlink.metricMTU {
                    route.mtu = NetlinkReader(metricValue).u32(at: 0).map(Int.init) ?? 0
                }
            case Netlink.routeMultipath:
                route.applyLiveNextHops(value, v6: v6)
            default:
                continue
            }
        }
        return route
    }

    /// struct rtvia: a 2-byte address family, then the address.
    private static func via(_ value: ArraySlice<UInt8>) -> IPAddress? {
        guard let family = NetlinkReader(value).u16(at: 0) else { return nil }
        let address = value.dropFirst(2)
        switch family {
        case UInt16(Netlink.inet): return NetlinkReader.address(address, v6: false)
        case UInt16(Netlink.inet6): return NetlinkReader.address(address, v6: true)
        default: return nil
        }
    }

    /// Walks RTA_MULTIPATH's struct rtnexthop list (length, flags, hops, ifindex, then attributes) and
    /// keeps the next hops not marked dead; the first also fills interfaceIndex/gateway.
    private mutating func applyLiveNextHops(_ value: ArraySlice<UInt8>, v6: Bool) {
        let reader = NetlinkReader(value)
        var offset = 0
        var live: [RouteHop] = []
        while let length = reader.u16(at: offset).map(Int.init), length >= Netlink.nextHopSize,
            length <= value.count - offset, let flags = reader.u8(at: offset + 2),
            let weight = reader.u8(at: offset + 3), let index = reader.i32(at: offset + 4)
        {
            let start = value.startIndex + offset
            offset += Netlink.align(length)
            guard flags & Netlink.nextHopDead == 0 else { continue }
            var hop = RouteHop(interfaceIndex: index, gateway: nil, weight: Int(weight) + 1)
            for (type, attribute) in NetlinkAttributes(value[(start + Netlink.nextHopSize)..<(start + length)]) {
                if type == Netlink.routeGateway { hop.gateway = NetlinkReader.address(attribute, v6: v6) }
                if type == Netlink.routeVia { hop.gateway = NetlinkRoute.via(attribute) }
            }
            live.append(hop)
        }
        alive = !live.isEmpty
        if let first = live.first {
            interfaceIndex = first.interfaceIndex
            gateway = first.gateway
        }
        hops = live.count > 1 ? live : []
    }
}
