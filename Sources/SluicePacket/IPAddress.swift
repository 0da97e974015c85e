// An IPv4 or IPv6 address as a plain 17-byte value: no allocation, no String on the hot path.
//
// Both families share one representation so that connection keys, pools and tables need not be
// generic over the family: an IPv4 address is stored in the low 32 bits of `low` with `high == 0`,
// which is *not* the IPv4-mapped IPv6 form (`isV6` tells them apart).

/// An IPv4 or IPv6 address held by value.
public struct IPAddress: Hashable, Sendable, Comparable {
    /// The first 64 bits of an IPv6 address in network order; zero for IPv4.
    public var high: UInt64
    /// The last 64 bits of an IPv6 address, or the IPv4 address in its low 32 bits.
    public var low: UInt64
    /// True for IPv6.
    public var isV6: Bool

    @inlinable
    public init(v4 value: UInt32) {
        self.high = 0
        self.low = UInt64(value)
        self.isV6 = false
    }

    @inlinable
    public init(v6High high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
        self.isV6 = true
    }

    /// The IPv4 address as a host-order integer (meaningless for IPv6).
    @inlinable
    public var v4: UInt32 { UInt32(truncatingIfNeeded: low) }

    /// The unspecified address of a family.
    @inlinable
    public static func zero(v6: Bool) -> IPAddress {
        v6 ? IPAddress(v6High: 0, low: 0) : IPAddress(v4: 0)
    }

    @inlinable
    public static func < (a: IPAddress, b: IPAddress) -> Bool {
        if a.isV6 != b.isV6 { return !a.isV6 }
        if a.high != b.high { return a.high < b.high }
        return a.low < b.low
    }

    /// A 64-bit mix of the address, for hash tables (not a keyed hash: table seeds add the key).
    @inlinable
    public var mixed: UInt64 {
        var h = high &* 0x9E37_79B9_7F4A_7C15
        h ^= low &+ (isV6 ? 0x6A09_E667_F3BC_C909 : 0)
        h ^= h >> 29
        return h &* 0xBF58_476D_1CE4_E5B9
    }
}
