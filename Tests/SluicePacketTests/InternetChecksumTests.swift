import SluicePacket
import SluiceTestKit
import Testing

/// Full checksum of `bytes` with the builder's independent arithmetic.
func reference(_ bytes: [UInt8], pseudo: UInt64 = 0) -> UInt16 {
    ~PacketBuilder.fold(PacketBuilder.onesComplementSum(bytes) + pseudo)
}

func word(_ b: [UInt8], _ o: Int) -> UInt16 { UInt16(b[o]) << 8 | UInt16(b[o + 1]) }

@Suite struct InternetChecksumTests {
    @Test func rfc1071Example() {
        // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2 (one's complement).
        let bytes: [UInt8] = [0x00, 0x01, 0xF2, 0x03, 0xF4, 0xF5, 0xF6, 0xF7]
        let acc = InternetChecksum.sum(bytes.span, from: 0, count: bytes.count)
        #expect(InternetChecksum.fold(acc) == 0xDDF2)
        #expect(InternetChecksum.finish(acc) == 0x220D)
    }

    @Test func ipv4HeaderVector() {
        // A classic IPv4 header whose checksum is b861.
        let header: [UInt8] = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xC0, 0xA8, 0x00, 0x01, 0xC0, 0xA8,
            0x00, 0xC7,
        ]
        #expect(InternetChecksum.finish(InternetChecksum.sum(header.span, from: 0, count: 20)) == 0xB861)
    }

    @Test func oddLengthPadsWithZero() {
        let bytes: [UInt8] = [0x12, 0x34, 0x56]
        #expect(InternetChecksum.fold(InternetChecksum.sum(bytes.span, from: 0, count: 3)) == 0x1234 &+ 0x5600)
        #expect(InternetChecksum.sum(bytes.span, from: 1, count: 1) == 0x3400)
    }

    @Test func randomSumsMatchReference() {
        var rng = SplitMix(seed: 1)
        for _ in 0..<2000 {
            let count = Int.random(in: 0..<200, using: &rng)
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let from = count == 0 ? 0 : Int.random(in: 0..<count, using: &rng)
            let slice = Array(bytes[from...])
            #expect(
                InternetChecksum.finish(InternetChecksum.sum(bytes.span, from: from, count: slice.count))
                    == reference(slice))
            // Chained segments split at an even offset give the same sum.
            let split = (Int.random(in: 0...slice.count, using: &rng)) & ~1
            let first = InternetChecksum.sum(bytes.span, from: from, count: split)
            let both = InternetChecksum.sum(bytes.span, from: from + split, count: slice.count - split, into: first)
            #expect(InternetChecksum.finish(both) == reference(slice))
        }
    }

    /// Every length up to past two 64-byte steps, from even and odd starts, against the reference; and
    /// the all-ones and single-byte corners of the block sums.
    @Test func sumMatchesReferenceAtEveryLength() {
        let bytes = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 151 &+ 7) }
        for from in [0, 1, 2, 5, 64] {
            for count in 0...200 {
                let slice = Array(bytes[from..<(from + count)])
                #expect(
                    InternetChecksum.finish(InternetChecksum.sum(bytes.span, from: from, count: count))
                        == reference(slice), "from \(from) count \(count)")
            }
        }
        for fill: UInt8 in [0x00, 0xFF] {
            for count in [63, 64, 65, 128, 192] {
                var data = [UInt8](repeating: fill, count: count)
                #expect(
                    InternetChecksum.finish(InternetChecksum.sum(data.span, from: 0, count: count)) == reference(data))
                data[count - 1] = 1
                #expect(
                    InternetChecksum.finish(InternetChecksum.sum(data.span, from: 0, count: count)) == reference(data))
            }
        }
    }

    /// Several changed fields as one accumulated difference (`delta`, `update(_:delta:)`) give what
    /// updating field by field and a full recomputation give.
    @Test func accumulatedDeltaEqualsFieldByField() {
        var rng = SplitMix(seed: 3)
        for round in 0..<3000 {
            let v6 = round % 2 == 1
            let size = v6 ? 16 : 4
            // Two addresses, then the two ports as one 32-bit field, then filler.
            var data = (0..<64).map { _ in UInt8.random(in: 0...255, using: &rng) }
            data[0] = 0
            data[1] = 0
            let old = (address(data, 2, v6: v6), address(data, 2 + size, v6: v6))
            let oldPorts = UInt32(word(data, 2 + 2 * size)) << 16 | UInt32(word(data, 4 + 2 * size))
            var stepwise = reference(data)
            let before = stepwise
            var fresh = (0..<(2 * size + 4)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            fresh[size - 1] |= 1  // a real new address is never all zeros
            data.replaceSubrange(2..<(6 + 2 * size), with: fresh)
            let new = (address(data, 2, v6: v6), address(data, 2 + size, v6: v6))
            let newPorts = UInt32(word(data, 2 + 2 * size)) << 16 | UInt32(word(data, 4 + 2 * size))
            stepwise = InternetChecksum.update(stepwise, oldAddress: old.0, newAddress: new.0)
            stepwise = InternetChecksum.update(stepwise, oldAddress: old.1, newAddress: new.1)
            stepwise = InternetChecksum.update(stepwise, old32: oldPorts, new32: newPorts)
            let delta =
                InternetChecksum.delta(from: old.0, to: new.0) &+ InternetChecksum.delta(from: old.1, to: new.1)
                &+ InternetChecksum.delta(from: oldPorts, to: newPorts)
            let combined = InternetChecksum.update(before, delta: delta)
            var zeroed = data
            zeroed[0] = 0
            zeroed[1] = 0
            #expect(combined == stepwise && combined == reference(zeroed), "round \(round)")
        }
    }

    @Test func allOnesSumsFold() {
        let bytes = [UInt8](repeating: 0xFF, count: 4096)
        #expect(InternetChecksum.fold(InternetChecksum.sum(bytes.span, from: 0, count: 4096)) == 0xFFFF)
        #expect(InternetChecksum.fold(UInt64.max) == 0xFFFF)
        #expect(InternetChecksum.fold(0) == 0)
    }

    @Test func pseudoHeaderMatchesReference() {
        let cases: [(String, String, UInt8, Int)] = [
            ("192.0.2.1", "198.51.100.2", 6, 40), ("10.255.255.255", "0.0.0.1", 17, 65535),
            ("2001:db8::1", "fe80::ffff:1", 58, 1232), ("ffff:ffff::ffff", "::", 6, 70000),
        ]
        for (s, d, p, len) in cases {
            let mine = InternetChecksum.pseudoHeader(source: ip(s), destination: ip(d), protocol: p, length: len)
            let theirs = PacketBuilder.pseudoHeaderSum(
                source: ip(s), destination: ip(d), protocolNumber: p, length: len)
            #expect(InternetChecksum.fold(mine) == PacketBuilder.fold(theirs), "\(s) \(d)")
        }
    }

    /// Random 16- and 32-bit field changes at even and odd offsets, and address changes: the
    /// incrementally updated checksum equals a full recomputation every time.
    @Test func incrementalEqualsFullRecompute() {
        var rng = SplitMix(seed: 2)
        for round in 0..<5000 {
            var data = (0..<64).map { _ in UInt8.random(in: 0...255, using: &rng) }
            // Data summing to 0xFFFF has checksum 0x0000: the ±0 corner of ones' complement.
            // (All-zero data cannot occur: every real checksum covers a non-zero protocol number.)
            if round % 97 == 0 {
                data = [UInt8](repeating: 0, count: 64)
                data[62] = 0xFF
                data[63] = 0xFF
            }
            data[0] = 0
            data[1] = 0
            var checksum = reference(data)
            let offset = Int.random(in: 2...56, using: &rng)
            let odd = offset & 1 == 1
            switch round % 3 {
            case 0:
                let old = word(data, offset)
                let new = round % 11 == 0 ? 0 : UInt16.random(in: 0...0xFFFF, using: &rng)
                data[offset] = UInt8(new >> 8)
                data[offset + 1] = UInt8(new & 0xFF)
                checksum = InternetChecksum.update(checksum, old: old, new: new, odd: odd)
            case 1:
                let old = UInt32(word(data, offset)) << 16 | UInt32(word(data, offset + 2))
                let new = UInt32.random(in: 0...UInt32.max, using: &rng)
                for i in 0..<4 { data[offset + i] = UInt8(new >> UInt32(24 - 8 * i) & 0xFF) }
                checksum = InternetChecksum.update(checksum, old32: old, new32: new, odd: odd)
            default:
                let even = offset & ~1
                let v6 = round % 2 == 0
                let size = v6 ? 16 : 4
                let start = min(even, 64 - size) & ~1
                let old = address(data, start, v6: v6)
                let newBytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &rng) }
                data.replaceSubrange(start..<(start + size), with: newBytes)
                checksum = InternetChecksum.update(
                    checksum, oldAddress: old, newAddress: address(data, start, v6: v6))
            }
            var zeroed = data
            zeroed[0] = 0
            zeroed[1] = 0
            #expect(checksum == reference(zeroed), "round \(round)")
        }
    }

    @Test func rfc1624Example() {
        // RFC 1624 §4: HC = 0xDD2F, m = 0x5555 → m' = 0x3285 gives HC' = 0x0000 (eqn 3), not 0xFFFF.
        #expect(InternetChecksum.update(0xDD2F, old: 0x5555, new: 0x3285) == 0x0000)
    }

    @Test func udpZeroRules() {
        // "No checksum" stays so.
        #expect(InternetChecksum.updateUDP(0, old: 1, new: 2) == 0)
        #expect(InternetChecksum.updateUDP(0, old32: 1, new32: 2) == 0)
        #expect(InternetChecksum.updateUDP(0, oldAddress: ip("10.0.0.1"), newAddress: ip("10.0.0.2")) == 0)
        // A result of 0x0000 is sent as 0xFFFF.
        #expect(InternetChecksum.updateUDP(0xDD2F, old: 0x5555, new: 0x3285) == 0xFFFF)
        #expect(InternetChecksum.udpField(0) == 0xFFFF)
        #expect(InternetChecksum.udpField(0x1234) == 0x1234)
        // An incoming 0xFFFF (a transmitted zero) updates like 0x0000 would.
        #expect(InternetChecksum.updateUDP(0xFFFF, old: 0x0001, new: 0x0002) == 0xFFFE)
    }

    @Test func udpRewriteMatchesBuilder() {
        var rng = SplitMix(seed: 3)
        for _ in 0..<500 {
            let payload = (0..<Int.random(in: 0..<40, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let a = PacketBuilder().ipv4(src: "10.0.0.1", dst: "10.0.0.2")
            let b = PacketBuilder().ipv4(src: "10.9.8.7", dst: "172.16.0.1")
            let sport = UInt16.random(in: 0...0xFFFF, using: &rng)
            var frame = a.udp(sport: 1, dport: 2, payload: payload).build()
            let expected = b.udp(sport: sport, dport: 2, payload: payload).build()
            let c = 14 + 20 + 6
            var sum = frame.span.u16(c)
            sum = InternetChecksum.updateUDP(sum, oldAddress: ip("10.0.0.1"), newAddress: ip("10.9.8.7"))
            sum = InternetChecksum.updateUDP(sum, oldAddress: ip("10.0.0.2"), newAddress: ip("172.16.0.1"))
            sum = InternetChecksum.updateUDP(sum, old: 1, new: sport)
            frame[c] = UInt8(sum >> 8)
            frame[c + 1] = UInt8(sum & 0xFF)
            #expect(word(frame, c) == word(expected, c))
        }
    }

    func address(_ data: [UInt8], _ o: Int, v6: Bool) -> IPAddress {
        v6 ? data.span.ipv6Address(o) : data.span.ipv4Address(o)
    }
}
