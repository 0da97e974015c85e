// A network interface as the data plane's forwarding decisions need it (from RTM_NEWLINK).

import SluicePacket

/// A network interface as far as forwarding cares.
public struct InterfaceInfo: Sendable, Hashable {
    public var index: Int32
    public var mac: MACAddress
    public var mtu: Int

    public init(index: Int32, mac: MACAddress, mtu: Int) {
        self.index = index
        self.mac = mac
        self.mtu = mtu
    }
}
