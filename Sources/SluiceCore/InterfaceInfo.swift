// A network interface as the data plane's forwarding decisions need it (from RTM_NEWLINK).

import SluicePacket

/// A network interface as far as forwarding cares.
public struct InterfaceInfo: Sendable, Hashable {
    public var index: Int32
    public var mac: MACAddress
    public var mtu: Int
    /// The interface group (IFLA_GROUP): what an ip rule's suppress_ifgroup refers to.
    public var group: UInt32

    public init(index: Int32, mac: MACAddress, mtu: Int, group: UInt32 = 0) {
        self.index = index
        self.mac = mac
        self.mtu = mtu
        self.group = group
    }
}
