// A neighbour (ARP/ND) entry mirrored from the kernel (RTM_NEWNEIGH). Only entries in a usable NUD
// state provide a MAC: Sluice never sends to a guessed or incomplete link-layer address.

import SluicePacket

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
