import SluicePacket
import SluiceTestKit
import Testing

/// A small deterministic generator (SplitMix64) so randomized tests repeat exactly.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct TruncationTests {
    /// Every prefix shorter than the datagram must be dropped; a prefix that only cuts Ethernet padding
    /// still parses, with offsets inside it.
    @Test(arguments: Fixtures.all)
    func everyPrefixIsDroppedOrConsistent(_ fixture: Fixture) {
        let (_, full) = parse(fixture.frame)
        for n in 0..<fixture.frame.count {
            let prefix = Array(fixture.frame.prefix(n))
            let (reason, info) = parse(prefix)
            if n < full.ipEnd {
                #expect(reason != nil, "prefix \(n) of \(fixture.name) accepted")
            } else {
                #expect(reason == nil)
                expectConsistent(info, length: n)
            }
            // The same bytes in a larger buffer with a shorter `length` must behave the same.
            #expect(parse(fixture.frame, length: n).0 == reason)
        }
    }

    /// ICMP errors quoting every prefix of the original packet: the outer frame is valid, so
    /// parseICMPError itself must reject or accept with offsets inside the quote.
    @Test(arguments: [false, true])
    func everyQuotedPrefix(v6: Bool) {
        let inner = v6 ? Fixtures.innerTCP6() : Fixtures.innerTCP4()
        let minimum = (v6 ? 40 : 20) + 8
        for n in 0..<inner.count {
            let quote = Array(inner.prefix(n))
            let frame = v6 ? Fixtures.icmpv6Error(inner: quote) : Fixtures.icmpv4Error(inner: quote)
            let (reason, info) = parse(frame)
            #expect(reason == nil)
            var embedded = EmbeddedPacket()
            let r = PacketParser.parseICMPError(frame.span, info: info, into: &embedded)
            if n < minimum {
                #expect(r == .badICMP, "quote of \(n) bytes")
            } else {
                #expect(r == nil, "quote of \(n) bytes")
                #expect(embedded.l4Offset + 8 <= embedded.end && embedded.end == info.ipEnd)
                #expect(embedded.sourcePort == (v6 ? 443 : 80))
            }
        }
    }

    /// Random byte corruption of every fixture: the parser must never trap, and whatever it accepts
    /// must be self-consistent.
    @Test func randomCorruptionNeverTraps() {
        var rng = SplitMix(seed: 0x5EED)
        let fixtures = Fixtures.all.map(\.frame)
        var accepted = 0
        for _ in 0..<20_000 {
            var frame = fixtures[Int.random(in: 0..<fixtures.count, using: &rng)]
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                frame[Int.random(in: 0..<frame.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            if Bool.random(using: &rng) {
                frame.removeLast(Int.random(in: 0..<frame.count, using: &rng))
            }
            let (reason, info) = parse(frame)
            if reason == nil {
                accepted += 1
                expectConsistent(info, length: frame.count)
                if info.l4Protocol == 1 || info.l4Protocol == 58 {
                    var embedded = EmbeddedPacket()
                    if PacketParser.parseICMPError(frame.span, info: info, into: &embedded) == nil {
                        #expect(embedded.l4Offset + 8 <= embedded.end && embedded.end <= frame.count)
                    }
                }
            }
        }
        // Corruption of payload bytes leaves frames valid (no L4 checksum check), so some pass.
        #expect(accepted > 100)
    }
}
