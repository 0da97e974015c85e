// CRC-32C (Castagnoli), as RFC 3720 §12.1 / RFC 4960 Appendix B define it, for the PROXY protocol v2
// CRC32C TLV (haproxy doc/proxy-protocol.txt §2.2.3).
//
// Reflected polynomial 0x82F63B78, initial value 0xFFFFFFFF, final XOR 0xFFFFFFFF, bytes processed
// least significant bit first. The 256-entry table is built once, on first use, into an InlineArray
// (no heap storage, no reference counting on access); a call costs one table load per byte, which is
// plenty for headers of at most a few hundred bytes. A slicing-by-8 or SSE4.2 version would only pay off
// on bulk data, which Sluice never checksums this way.
//
// `seed` chains calls the way zlib's crc32() does: pass the previous result to continue, so that
// checksum(a ++ b) == checksum(b, seed: checksum(a)). The default seed 0 starts a new checksum.

/// CRC-32C (Castagnoli) checksums.
public enum CRC32C {
    /// The reflected Castagnoli polynomial.
    public static let polynomial: UInt32 = 0x82F6_3B78

    /// The byte-at-a-time lookup table, computed once.
    @usableFromInline
    static let table: InlineArray<256, UInt32> = InlineArray { index in
        var crc = UInt32(truncatingIfNeeded: index)
        for _ in 0..<8 {
            crc = crc & 1 == 1 ? (crc &>> 1) ^ polynomial : crc &>> 1
        }
        return crc
    }

    /// The CRC-32C of `bytes[from ..< from + count]`, continuing from `seed` (a previous result, or 0
    /// to start). Traps if the range leaves the span; callers check lengths first.
    @inlinable
    public static func checksum(_ bytes: Span<UInt8>, from: Int, count: Int, seed: UInt32 = 0) -> UInt32 {
        precondition(from >= 0 && count >= 0 && from <= bytes.count - count)
        var crc = ~seed
        var i = from
        let end = from &+ count
        while i < end {
            crc = table[Int(UInt8(truncatingIfNeeded: crc) ^ bytes[i])] ^ (crc &>> 8)
            i &+= 1
        }
        return ~crc
    }

    /// The CRC-32C of `count` zero bytes, continuing from `seed`. Receivers use it to checksum a
    /// header whose CRC field must count as zeros without copying the header.
    @inlinable
    public static func checksumOfZeros(count: Int, seed: UInt32 = 0) -> UInt32 {
        var crc = ~seed
        var i = 0
        while i < count {
            crc = table[Int(UInt8(truncatingIfNeeded: crc))] ^ (crc &>> 8)
            i &+= 1
        }
        return ~crc
    }
}
