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
    /// Whether a match forwards or rejects (blackhole, unreachable, prohibit, throw).
    public var kind: Kind

    /// What the kernel does with a packet whose longest match is this route.
    public enum Kind: Sendable, Hashable {
        /// RTN_UNICAST: forward through `interfaceIndex`, to `gateway` when set.
        case unicast
        /// RTN_BLACKHOLE, RTN_UNREACHABLE, RTN_PROHIBIT, RTN_THROW: the kernel would not forward, so
        /// neither does Sluice; a less specific route is *not* tried.
        case reject
    }

    public init(
        prefix: IPAddress, prefixLength: UInt8, interfaceIndex: Int32, gateway: IPAddress?, mtu: Int = 0,
        metric: UInt32 = 0, kind: Kind = .unicast
    ) {
        self.prefix = prefix
        self.prefixLength = prefixLength
        self.interfaceIndex = interfaceIndex
        self.gateway = gateway
        self.mtu = mtu
        self.metric = metric
        self.kind = kind
    }
}

/// A neighbour (ARP or NDP) cache entry, in any state; lookups use only the usable ones.
public struct NeighbourEntry: Sendable, Hashable {
    public var interfaceIndex: Int32
    public var address: IPAddress
    /// Zero when the kernel has no link-layer address yet (INCOMPLETE, FAILED).
    public var mac: MACAddress
    /// The kernel's NUD_* bits (`NeighbourEntry.State`).
    public var state: UInt16

    public init(interfaceIndex: Int32, address: IPAddress, mac: MACAddress, state: UInt16) {
        self.interfaceIndex = interfaceIndex
        self.address = address
        self.mac = mac
        self.state = state
    }

    /// The kernel's neighbour states (`NUD_*` in `<linux/neighbour.h>`).
    public enum State {
        public static let none: UInt16 = 0x00
        public static let incomplete: UInt16 = 0x01
        public static let reachable: UInt16 = 0x02
        public static let stale: UInt16 = 0x04
        public static let delay: UInt16 = 0x08
        public static let probe: UInt16 = 0x10
        public static let failed: UInt16 = 0x20
        public static let noARP: UInt16 = 0x40
        public static let permanent: UInt16 = 0x80
        /// States whose link-layer address may be used to send: the kernel itself transmits to
        /// STALE/DELAY/PROBE entries while it re-confirms them (RFC 4861 §7.3.3).
        public static let usable: UInt16 = reachable | stale | delay | probe | noARP | permanent
    }

    /// True when `mac` may be used as a destination.
    public var isUsable: Bool { state & State.usable != 0 }
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
