// A 48-bit link-layer address held in the low bits of a UInt64 (network byte order: the first
// octet is the most significant of the 48).

/// An Ethernet MAC address.
public struct MACAddress: Hashable, Sendable {
    public var value: UInt64

    @inlinable
    public init(_ value: UInt64) { self.value = value & 0xFFFF_FFFF_FFFF }

    @inlinable
    public init(_ b0: UInt8, _ b1: UInt8, _ b2: UInt8, _ b3: UInt8, _ b4: UInt8, _ b5: UInt8) {
        value =
            UInt64(b0) << 40 | UInt64(b1) << 32 | UInt64(b2) << 24 | UInt64(b3) << 16 | UInt64(b4) << 8 | UInt64(b5)
    }

    /// Octet `i` (0 = first on the wire).
    @inlinable
    public func octet(_ i: Int) -> UInt8 { UInt8(truncatingIfNeeded: value >> UInt64(40 - 8 * i)) }

    public static let zero = MACAddress(0)
}
