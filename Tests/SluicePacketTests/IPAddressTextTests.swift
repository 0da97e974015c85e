import SluicePacket
import Testing

@Suite struct IPAddressTextTests {
    @Test(arguments: ["0.0.0.0", "10.0.0.1", "192.0.2.255", "255.255.255.255", "1.2.3.4"])
    func ipv4RoundTrip(_ text: String) throws {
        let a = try #require(IPAddress(text))
        #expect(!a.isV6)
        #expect(a.description == text)
    }

    @Test func ipv4Value() {
        #expect(IPAddress("192.0.2.1") == IPAddress(v4: 0xC000_0201))
    }

    /// (input, RFC 5952 canonical output)
    @Test(arguments: [
        ("::", "::"),
        ("::1", "::1"),
        ("1::", "1::"),
        ("2001:db8::1", "2001:db8::1"),
        ("2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        // §4.2.2: a single zero group is not shortened.
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
        ("2001:db8::1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
        // §4.2.3: the longest run wins; on a tie the first.
        ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
        // §4.1: leading zeros removed; §4.3: lowercase.
        ("2001:DB8:00AB::0c", "2001:db8:ab::c"),
        ("fe80::ffff:1", "fe80::ffff:1"),
        ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
        ("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"),
        ("::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"),
        // Embedded IPv4 (RFC 4291 §2.2 item 3); §5: IPv4-mapped is written with a dotted tail.
        ("::ffff:192.0.2.1", "::ffff:192.0.2.1"),
        ("::FFFF:c000:0201", "::ffff:192.0.2.1"),
        ("64:ff9b::192.0.2.33", "64:ff9b::c000:221"),
        ("1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"),
        ("::1.2.3.4", "::102:304"),
    ])
    func ipv6Canonical(_ input: String, _ canonical: String) throws {
        let a = try #require(IPAddress(input))
        #expect(a.isV6)
        #expect(a.description == canonical)
        #expect(IPAddress(canonical) == a)
    }

    @Test func ipv6Value() {
        #expect(
            IPAddress("2001:db8::ff00:42:8329") == IPAddress(v6High: 0x2001_0DB8_0000_0000, low: 0x0000_FF00_0042_8329))
        #expect(IPAddress("::") == IPAddress.zero(v6: true))
    }

    @Test(arguments: [
        "", "1", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.04", "1..2.3", "1.2.3.", ".1.2.3", "1.2.3.-4",
        "a.b.c.d", " 1.2.3.4", "1.2.3.4 ", ":", ":::", "1:::2", "1::2::3", ":1::", "1::2:", "1:2:3:4:5:6:7:8:9",
        "1:2:3:4:5:6:7", "12345::", "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8", "g::1", "::1.2.3", "::1.2.3.4:5",
        "1:2:3:4:5:6:7:1.2.3.4", "fe80::1%eth0", "2001:db8::/32", "::ffff:256.0.0.1", "1.2.3.4::",
    ])
    func rejects(_ text: String) {
        #expect(IPAddress(text) == nil, "accepted \(text)")
    }

    @Test func randomRoundTrip() {
        var rng = SplitMix(seed: 4)
        for _ in 0..<3000 {
            // Sparse groups so that zero runs of every length occur.
            var high: UInt64 = 0
            var low: UInt64 = 0
            for i in 0..<4 {
                if Bool.random(using: &rng) {
                    high |= UInt64(UInt16.random(in: 0...0xFFFF, using: &rng)) << (16 * UInt64(i))
                }
                if Bool.random(using: &rng) {
                    low |= UInt64(UInt16.random(in: 0...0xFFFF, using: &rng)) << (16 * UInt64(i))
                }
            }
            let a = IPAddress(v6High: high, low: low)
            let text = a.description
            #expect(IPAddress(text) == a, "\(text)")
            #expect(!text.contains(":::") && text.lowercased() == text)
            let v4 = IPAddress(v4: UInt32.random(in: 0...UInt32.max, using: &rng))
            #expect(IPAddress(v4.description) == v4)
        }
    }

    @Test func substringInput() {
        let text = "x10.0.0.1y"
        #expect(IPAddress(text.dropFirst().dropLast()) == IPAddress(v4: 0x0A00_0001))
    }
}
