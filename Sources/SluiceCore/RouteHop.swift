// One next hop of a multipath route (an rtnexthop of RTA_MULTIPATH, `ip route add … nexthop via A
// nexthop via B`): two top-of-rack routers in front of the real servers share the load when each
// connection keeps to one of them (NetworkView.nextHop(to:flowHash:)).

import SluicePacket

/// One next hop of a multipath route.
public struct RouteHop: Sendable, Hashable {
    public var interfaceIndex: Int32
    /// nil when the destination is on the link itself.
    public var gateway: IPAddress?
    /// Relative share of the flows (the kernel's rtnh_hops + 1: 1...256).
    public var weight: Int

    public init(interfaceIndex: Int32, gateway: IPAddress?, weight: Int = 1) {
        self.interfaceIndex = interfaceIndex
        self.gateway = gateway
        self.weight = weight
    }
}
