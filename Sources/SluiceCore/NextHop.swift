// The result of a forwarding lookup: where a frame leaves and whose MAC it needs.

import SluicePacket

/// The result of a forwarding lookup.
public struct NextHop: Sendable, Hashable {
    public var interfaceIndex: Int32
    /// The address whose MAC is needed: the gateway, or the destination itself when connected.
    public var address: IPAddress
    /// Effective MTU: the route's when set, else the interface's.
    public var mtu: Int
    /// True when the route has several next hops and the flow hash chose this one: another flow to the
    /// same destination may leave through another.
    public var isMultipath: Bool

    public init(interfaceIndex: Int32, address: IPAddress, mtu: Int, isMultipath: Bool = false) {
        self.interfaceIndex = interfaceIndex
        self.address = address
        self.mtu = mtu
        self.isMultipath = isMultipath
    }
}
