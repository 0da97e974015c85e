// RFC 6528 ISNs for the real-server leg: M advances with the 4-µs clock, F depends on every bit of
// the tuple and on the secret, and the sum wraps mod 2^32.

import SluiceCore
import SluicePacket
import Testing

@Suite struct SequenceNumberGeneratorTests {
    static let lip = IPAddress(v4: 0x0A00_0001)
    static let rip = IPAddress(v4: 0x0A00_0064)
    static let lip6 = IPAddress(v6High: 0xfd00_0000_0000_0001, low: 0x0000_0000_0000_0001)
    static let rip6 = IPAddress(v6High: 0xfd00_0000_0000_0002, low: 0x0000_0000_0000_0064)

    @Test func isnAdvancesWithTheClock() {
        let g = SequenceNumberGenerator(secret: (1, 2))
        let t0 = g.isn(local: Self.lip, localPort: 5000, remote: Self.rip, remotePort: 80, nowMilliseconds: 1_000)
        let t1 = g.isn(local: Self.lip, localPort: 5000, remote: Self.rip, remotePort: 80, nowMilliseconds: 1_001)
        let t2 = g.isn(local: Self.lip, localPort: 5000, remote: Self.rip, remotePort: 80, nowMilliseconds: 8_000)
        // 250 ticks of 4 µs per millisecond, mod 2^32.
        #expect(t1 &- t0 == 250)
        #expect(t2 &- t0 == 7_000 * 250)
        // The same tuple at the same time always gives the same ISN.
        #expect(g.isn(local: Self.lip, localPort: 5000, remote: Self.rip, remotePort: 80, nowMilliseconds: 1_000) == t0)
        // M wraps mod 2^32: 17_179_869 ms · 250 is just below 2^32, one millisecond later it wraps,
        // and the ISN still moves by exactly 250.
        let beforeWrap = g.isn(
            local: Self.lip, localPort: 5000, remote: Self.rip, remotePort: 80, nowMilliseconds: 17_179_869)
        let afterWrap = g.isn(
            local: Self.lip, localPort: 5000, remote: Self.rip, remotePort: 80, nowMilliseconds: 17_179_870)
        #expect(afterWrap &- beforeWrap == 250)
        #expect(beforeWrap &- t0 == UInt32(truncatingIfNeeded: UInt64(17_178_869) &* 250))
    }

    @Test func isnDependsOnEveryPartOfTheTuple() {
        let g = SequenceNumberGenerator(secret: (0xDEAD_BEEF, 0xFEED_FACE))
        func isn(_ l: IPAddress, _ lp: UInt16, _ r: IPAddress, _ rp: UInt16) -> UInt32 {
            g.isn(local: l, localPort: lp, remote: r, remotePort: rp, nowMilliseconds: 42)
        }
        let base = isn(Self.lip, 5000, Self.rip, 80)
        var variants: [UInt32] = [
            isn(IPAddress(v4: 0x0A00_0002), 5000, Self.rip, 80),
            isn(Self.lip, 5001, Self.rip, 80),
            isn(Self.lip, 5000, IPAddress(v4: 0x0A00_0065), 80),
            isn(Self.lip, 5000, Self.rip, 81),
            isn(Self.rip, 80, Self.lip, 5000),
        ]
        // IPv6: the high and the low 64 bits of both addresses all count.
        let base6 = isn(Self.lip6, 5000, Self.rip6, 80)
        var lipHigh = Self.lip6
        lipHigh.high ^= 1 << 40
        var ripHigh = Self.rip6
        ripHigh.high ^= 1
        var ripLow = Self.rip6
        ripLow.low ^= 1 << 63
        variants += [
            isn(lipHigh, 5000, Self.rip6, 80), isn(Self.lip6, 5000, ripHigh, 80), isn(Self.lip6, 5000, ripLow, 80),
        ]
        #expect(!variants.contains(base))
        #expect(!variants.contains(base6))
        #expect(Set(variants + [base, base6]).count == variants.count + 2)
        // Same numeric value, other family.
        let mapped = IPAddress(v6High: 0, low: UInt64(Self.lip.v4))
        #expect(isn(mapped, 5000, Self.rip, 80) != base)
    }

    @Test func isnDependsOnTheSecret() {
        let a = SequenceNumberGenerator(secret: (1, 2))
        let b = SequenceNumberGenerator(secret: (1, 3))
        var differing = 0
        for port in UInt16(1000)..<1100 {
            let x = a.isn(local: Self.lip, localPort: port, remote: Self.rip, remotePort: 80, nowMilliseconds: 0)
            let y = b.isn(local: Self.lip, localPort: port, remote: Self.rip, remotePort: 80, nowMilliseconds: 0)
            if x != y { differing += 1 }
        }
        #expect(differing == 100)
        #expect(
            a.offset(local: Self.lip, localPort: 1, remote: Self.rip, remotePort: 2)
                == a.isn(
                    local: Self.lip, localPort: 1, remote: Self.rip, remotePort: 2, nowMilliseconds: 0))
    }
}
