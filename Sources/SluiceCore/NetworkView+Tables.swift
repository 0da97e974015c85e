// The slots of NetworkView's two open-addressing tables. They are plain values in flat arrays so that
// a probe is a bounds-checked array read: no allocation, no reference counting, no existential.
// Prefixes are stored masked; a slot's tag packs "occupied", the family, the prefix length and the
// routing table's index so that one compare rejects a slot of another length, family or table.

import SluicePacket

/// One slot of the route table: a masked prefix and the index of what a match resolves to. Kept to 24
/// bytes (the resolution lives in a separate array, read once per lookup) so that the probes of a
/// lookup touch as few cache lines as possible.
@usableFromInline
struct RouteSlot: Sendable {
    /// The masked prefix, in IPAddress's layout (IPv4 in the low 32 bits of `low`).
    @usableFromInline var high: UInt64
    @usableFromInline var low: UInt64
    /// 0 for an empty slot, else `tag(v6:length:table:)`.
    @usableFromInline var tag: UInt32
    /// Index into NetworkView.routeEntries.
    @usableFromInline var entry: Int32

    init(high: UInt64, low: UInt64, tag: UInt32, entry: Int32) {
        self.high = high
        self.low = low
        self.tag = tag
        self.entry = entry
    }

    static let empty = RouteSlot(high: 0, low: 0, tag: 0, entry: 0)

    /// Bit 0 occupied, bits 1–8 the prefix length, bit 9 IPv6, bits 10–31 the table's index (a view
    /// has far fewer than 2^22 tables with routes).
    @inlinable
    static func tag(v6: Bool, length: UInt8, table: Int32) -> UInt32 {
        1 | UInt32(length) << 1 | (v6 ? 0x200 : 0) | UInt32(truncatingIfNeeded: table) << 10
    }

    @inlinable
    func matches(high: UInt64, low: UInt64, tag: UInt32) -> Bool {
        self.tag == tag && self.high == high && self.low == low
    }

    /// The address with every bit past `length` cleared. `length` must not exceed the family's width.
    @inlinable
    static func mask(_ address: IPAddress, length: UInt8) -> (high: UInt64, low: UInt64) {
        if !address.isV6 {
            let bits: UInt64 = length == 0 ? 0 : (0xFFFF_FFFF << UInt64(32 - length)) & 0xFFFF_FFFF
            return (0, address.low & bits)
        }
        if length <= 64 {
            let bits: UInt64 = length == 0 ? 0 : ~0 << UInt64(64 - length)
            return (address.high & bits, 0)
        }
        return (address.high, address.low & (~0 << UInt64(128 - length)))
    }

    @inlinable
    static func hash(high: UInt64, low: UInt64, tag: UInt32) -> Int {
        // A multiply-xorshift mix (splitmix64 finaliser); the table's keys come from the kernel's routing
        // table, not from packets, so no secret seed is needed.
        var h = high ^ (low &* 0x9E37_79B9_7F4A_7C15) ^ (UInt64(tag) << 48)
        h ^= h >> 30
        h = h &* 0xBF58_476D_1CE4_E5B9
        h ^= h >> 27
        h = h &* 0x94D0_49BB_1331_11EB
        h ^= h >> 31
        return Int(truncatingIfNeeded: h)
    }
}

/// What a route resolves to, precomputed at build time.
@usableFromInline
struct RouteEntry: Sendable {
    @usableFromInline var metric: UInt32
    /// False for a reject route, or a unicast route through an unknown interface.
    @usableFromInline var usable: Bool
    /// True when the destination itself is the next hop.
    @usableFromInline var connected: Bool
    @usableFromInline var interfaceIndex: Int32
    @usableFromInline var gateway: IPAddress
    /// Effective MTU (route MTU, else the interface's).
    @usableFromInline var mtu: Int
    /// A `throw` route: not usable, and the rule evaluation goes on with the next rule.
    @usableFromInline var throwsToNextRule = false
    /// A multipath route's share of NetworkView.pathEntries (each next hop repeated by weight); 0
    /// entries for a single next hop.
    @usableFromInline var pathStart: Int32 = 0
    @usableFromInline var pathCount: Int32 = 0

    init(metric: UInt32) {
        self.metric = metric
        usable = false
        connected = true
        interfaceIndex = 0
        gateway = IPAddress(v4: 0)
        mtu = 0
    }
}

/// Where one routing table's distinct prefix lengths sit in NetworkView.prefixLengths: `v4Count`
/// IPv4 lengths from `start`, then `v6Count` IPv6 ones, each run in descending order.
@usableFromInline
struct TableLengths: Sendable {
    @usableFromInline var start: Int32
    @usableFromInline var v4Count: Int32
    @usableFromInline var v6Count: Int32

    init(start: Int32, v4Count: Int32, v6Count: Int32) {
        self.start = start
        self.v4Count = v4Count
        self.v6Count = v6Count
    }
}

/// One slot of the neighbour table: a usable (ifindex, address) → MAC binding.
@usableFromInline
struct NeighbourSlot: Sendable {
    @usableFromInline var address: IPAddress
    @usableFromInline var interfaceIndex: Int32
    @usableFromInline var mac: MACAddress
    @usableFromInline var occupied: Bool

    init(address: IPAddress, interfaceIndex: Int32, mac: MACAddress) {
        self.address = address
        self.interfaceIndex = interfaceIndex
        self.mac = mac
        occupied = true
    }

    static let empty: NeighbourSlot = {
        var slot = NeighbourSlot(address: IPAddress(v4: 0), interfaceIndex: 0, mac: .zero)
        slot.occupied = false
        return slot
    }()

    @inlinable
    func matches(_ address: IPAddress, interfaceIndex: Int32) -> Bool {
        self.interfaceIndex == interfaceIndex && self.address.low == address.low
            && self.address.high == address.high && self.address.isV6 == address.isV6
    }

    @inlinable
    static func hash(_ address: IPAddress, interfaceIndex: Int32) -> Int {
        RouteSlot.hash(
            high: address.high, low: address.low,
            tag: UInt32(bitPattern: interfaceIndex) ^ (address.isV6 ? 0x8000_0000 : 0))
    }
}
