import SluicePacket
import Testing

/// A bit-at-a-time CRC-32C written from RFC 3720 §12.1 / RFC 4960 Appendix B, independent of the
/// table the library builds.
func referenceCRC32C(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for b in bytes {
        crc ^= UInt32(b)
        for _ in 0..<8 {
            crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1
        }
    }
    return ~crc
}

func crc32c(_ bytes: [UInt8], seed: UInt32 = 0) -> UInt32 {
    CRC32C.checksum(bytes.span, from: 0, count: bytes.count, seed: seed)
}

@Suite struct CRC32CTests {
    /// RFC 3720 Appendix B.4 test vectors, plus the common "123456789" check value.
    @Test func rfc3720Vectors() {
        #expect(crc32c([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(crc32c([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(crc32c((0..<32).map { UInt8($0) }) == 0x46DD_794E)
        #expect(crc32c((0..<32).reversed().map { UInt8($0) }) == 0x113F_DB5C)
        #expect(crc32c(Array("123456789".utf8)) == 0xE306_9283)
        #expect(crc32c([]) == 0)
    }

    @Test func zerosHelperMatchesZeroBytes() {
        #expect(CRC32C.checksumOfZeros(count: 32) == 0x8A91_36AA)
        #expect(CRC32C.checksumOfZeros(count: 0, seed: 0x1234_5678) == 0x1234_5678)
        let head = Array("PROXY".utf8)
        #expect(CRC32C.checksumOfZeros(count: 4, seed: crc32c(head)) == crc32c(head + [0, 0, 0, 0]))
    }

    @Test func matchesBitwiseReferenceAndChains() {
        var rng = SplitMix(seed: 0xC3C3)
        for length in [1, 2, 3, 7, 8, 15, 16, 63, 64, 100, 257] {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let whole = crc32c(bytes)
            #expect(whole == referenceCRC32C(bytes))
            for split in [0, 1, length / 2, length] {
                let first = crc32c(Array(bytes[..<split]))
                #expect(crc32c(Array(bytes[split...]), seed: first) == whole)
            }
            // A subrange of a larger span.
            let padded = [0xAA, 0x55] + bytes + [0x11]
            #expect(CRC32C.checksum(padded.span, from: 2, count: length) == whole)
        }
    }
}
