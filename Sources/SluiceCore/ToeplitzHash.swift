// The Toeplitz hash NICs compute for receive-side scaling (Microsoft, "RSS Hashing Functions" and
// "Verifying the RSS Hash Calculation"). Sluice computes it itself to predict which RX queue, and so
// which worker, a reply will arrive on: with FULLNAT the gateway picks the local address and port
// of the server leg, and a choice whose reply hashes to the choosing worker's own queue keeps a
// connection on one worker in both directions.
//
// The definition: for every set bit of the input, taken from the most significant bit of the first
// byte onwards, the 32 key bits that start at that bit's position are xor-ed into the result. The
// hash is linear in the input, so the contribution of each input byte depends only on its position
// and its value. `init(key:)` therefore tabulates, once, the 32-bit contribution of every byte value
// at each of the 36 input positions the largest standard input (IPv6 with ports) has, and hashing
// is one table load and one xor per input byte, with no allocation.
//
// Inputs are the fields as they appear on the wire, in network byte order and in the order the RSS
// specification concatenates them: source address, destination address, source port, destination
// port (12 bytes for IPv4 with ports, 8 without; 36 and 32 for IPv6).

import SluicePacket

/// The RSS Toeplitz hash under one secret key, tabulated for fast per-packet use.
public struct ToeplitzHash: Sendable {
    /// The well-known default key of the Microsoft RSS specification (also the default of many NIC
    /// drivers and of the verification vectors).
    public static let microsoftDefaultKey: [UInt8] = [
        0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67,
        0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb,
        0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
        0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
    ]

    /// The longest input hashed: two IPv6 addresses and two ports.
    public static let maximumInputBytes = 2 * v6AddressBytes + 2 * portBytes

    /// The shortest key accepted: every input bit needs the 32 key bits starting at its position,
    /// so a key must be 4 bytes longer than the longest input (40 bytes, the size the specification
    /// and most NICs use). Longer keys (52 bytes on Intel ice/i40e) are accepted; their bytes past
    /// the 40th never reach the result.
    public static let minimumKeyBytes = maximumInputBytes + resultBytes

    /// Bytes of the 32-bit result.
    static let resultBytes = MemoryLayout<UInt32>.size

    /// Bytes of an IPv4 address in the input.
    @usableFromInline static var v4AddressBytes: Int { 4 }
    /// Bytes of an IPv6 address in the input.
    @usableFromInline static var v6AddressBytes: Int { 16 }
    /// Bytes of a port in the input.
    @usableFromInline static var portBytes: Int { 2 }
    /// Table entries per input position: one per byte value.
    @usableFromInline static var byteValues: Int { 256 }

    /// The key the table was built from.
    public let key: [UInt8]

    /// `table[position * byteValues + value]` is the hash of an input that is zero except for `value`
    /// at byte `position`.
    @usableFromInline let table: [UInt32]

    /// Tabulates the hash for `key`; nil when the key is shorter than `minimumKeyBytes`.
    public init?(key: [UInt8]) {
        guard key.count >= Self.minimumKeyBytes else { return nil }
        self.key = key
        var table = [UInt32](repeating: 0, count: Self.maximumInputBytes * Self.byteValues)
        for position in 0..<Self.maximumInputBytes {
            // The 40 key bits from this byte on: the 32-bit windows of its 8 input bits lie within them.
            var span: UInt64 = 0
            for offset in 0...Self.resultBytes {
                span = span << UInt8.bitWidth | UInt64(key[position + offset])
            }
            // windows[bit] is the key window for the input bit `bit` places below the byte's top bit.
            var windows = [UInt32](repeating: 0, count: UInt8.bitWidth)
            for bit in 0..<UInt8.bitWidth {
                windows[bit] = UInt32(truncatingIfNeeded: span >> UInt64(UInt8.bitWidth - bit))
            }
            let base = position * Self.byteValues
            for value in 1..<Self.byteValues {
                // Each value is a smaller value plus its lowest set bit, whose window it adds.
                let lowestBit = value.trailingZeroBitCount
                let rest = value & (value - 1)
                table[base + value] = table[base + rest] ^ windows[UInt8.bitWidth - 1 - lowestBit]
            }
        }
        self.table = table
    }

    /// The contribution of one input byte at `position`.
    @inlinable @inline(__always)
    func mix(_ byte: UInt8, at position: Int) -> UInt32 {
        table[position &* Self.byteValues &+ Int(byte)]
    }

    /// The contribution of a 16-bit field, written big-endian from `position`.
    @inlinable @inline(__always)
    func mix(_ value: UInt16, at position: Int) -> UInt32 {
        mix(UInt8(truncatingIfNeeded: value &>> UInt8.bitWidth), at: position)
            ^ mix(UInt8(truncatingIfNeeded: value), at: position &+ MemoryLayout<UInt8>.size)
    }

    /// The contribution of a 32-bit field, written big-endian from `position`.
    @inlinable @inline(__always)
    func mix(_ value: UInt32, at position: Int) -> UInt32 {
        mix(UInt16(truncatingIfNeeded: value &>> UInt16.bitWidth), at: position)
            ^ mix(UInt16(truncatingIfNeeded: value), at: position &+ MemoryLayout<UInt16>.size)
    }

    /// The contribution of a 64-bit field, written big-endian from `position`.
    @inlinable @inline(__always)
    func mix(_ value: UInt64, at position: Int) -> UInt32 {
        mix(UInt32(truncatingIfNeeded: value &>> UInt32.bitWidth), at: position)
            ^ mix(UInt32(truncatingIfNeeded: value), at: position &+ MemoryLayout<UInt32>.size)
    }

    /// The contribution of an address (4 or 16 bytes by its family) written from `position`.
    @inlinable @inline(__always)
    func mix(_ address: IPAddress, at position: Int) -> UInt32 {
        if address.isV6 {
            return mix(address.high, at: position) ^ mix(address.low, at: position &+ MemoryLayout<UInt64>.size)
        }
        return mix(address.v4, at: position)
    }

    /// The RSS hash of an address pair (the "IPv4" / "IPv6" hash types): source then destination.
    /// Both addresses should be of one family; the source's family decides the input layout.
    @inlinable
    public func hashAddresses(source: IPAddress, destination: IPAddress) -> UInt32 {
        let width = source.isV6 ? Self.v6AddressBytes : Self.v4AddressBytes
        return mix(source, at: 0) ^ mix(destination, at: width)
    }

    /// The RSS hash of a transport 4-tuple (the "TCP/UDP over IPv4" / "over IPv6" hash types):
    /// source address, destination address, source port, destination port. Both addresses should be
    /// of one family; the source's family decides the input layout.
    @inlinable
    public func hash(source: IPAddress, destination: IPAddress, sourcePort: UInt16, destinationPort: UInt16)
        -> UInt32
    {
        let width = source.isV6 ? Self.v6AddressBytes : Self.v4AddressBytes
        let ports = width &* 2
        return mix(source, at: 0) ^ mix(destination, at: width) ^ mix(sourcePort, at: ports)
            ^ mix(destinationPort, at: ports &+ Self.portBytes)
    }
}
