// The kernel's L2/L3 state as the data plane sees it: an immutable snapshot of interfaces,
// routes and neighbours, mirrored from rtnetlink by SluiceXDP's NetlinkMirror and replaced
// (never mutated) when the kernel reports a change. Workers pick up a new snapshot at a batch
// boundary. Sluice never guesses a MAC address: a next hop missing here means "drop, count,
// and ask the kernel to resolve it".

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

    public init(
        prefix: IPAddress, prefixLength: UInt8, interfaceIndex: Int32, gateway: IPAddress?, mtu: Int = 0,
        metric: UInt32 = 0
    ) {
        self.prefix = prefix
        self.prefixLength = prefixLength
        self.interfaceIndex = interfaceIndex
        self.gateway = gateway
        self.mtu = mtu
        self.metric = metric
    }
}

/// The result of a forwarding lookup.
public struct NextHop: Sendable, Hashable {
    public var interfaceIndex: Int32
    /// The address whose MAC is needed: the gateway, or the destination itself when connected.
    public var address: IPAddress
    /// Effective MTU: the route's when set, else the interface's.
    public var mtu: Int

    public init(interfaceIndex: Int32, address: IPAddress, mtu: Int) {
        self.interfaceIndex = interfaceIndex
        self.address = address
        self.mtu = mtu
    }
}
