import SluicePacket
import SluiceTestKit
import Testing

@Suite struct TCPOptionsTests {
    /// Leading NOPs shift the options so each rewrite is tried at even and odd offsets.
    static let alignments = [0, 1, 2, 3]

    func frame(nops: Int, options: [TCPOptionSpec], v6: Bool = false) -> [UInt8] {
        let b =
            v6
            ? PacketBuilder().ipv6(src: "2001:db8::1", dst: "2001:db8::2")
            : PacketBuilder().ethernet(vlan: 3).ipv4(src: "10.0.0.1", dst: "10.0.0.2")
        return b.tcp(
            sport: 1, dport: 2, flags: TCPFlag.syn,
            options: [TCPOptionSpec](repeating: .nop, count: nops) + options, payload: [1, 2, 3]
        ).build()
    }

    @Test(arguments: alignments, [false, true])
    func clampMSS(nops: Int, v6: Bool) throws {
        var bytes = frame(nops: nops, options: [.mss(1460), .sackPermitted], v6: v6)
        let (reason, info) = parse(bytes)
        try #require(reason == nil)
        #expect(info.tcpOptions.mssOffset == info.l4Offset + 20 + nops + 2)
        var m = bytes.mutableSpan
        #expect(TCPOptions.clampMSS(&m, tcpOffset: info.l4Offset, summary: info.tcpOptions, to: 1452))
        #expect(!TCPOptions.clampMSS(&m, tcpOffset: info.l4Offset, summary: info.tcpOptions, to: 1452))
        #expect(!TCPOptions.clampMSS(&m, tcpOffset: info.l4Offset, summary: info.tcpOptions, to: 1500))
        #expect(bytes.span.u16(info.tcpOptions.mssOffset) == 1452)
        #expect(FrameChecker.checksumsValid(bytes), "\(FrameChecker.problem(bytes) ?? "")")
    }

    @Test func clampMSSWithoutOption() {
        var bytes = frame(nops: 0, options: [.sackPermitted])
        let before = bytes
        let (_, info) = parse(bytes)
        var m = bytes.mutableSpan
        #expect(!TCPOptions.clampMSS(&m, tcpOffset: info.l4Offset, summary: info.tcpOptions, to: 536))
        #expect(bytes == before)
    }

    @Test(arguments: alignments, [UInt32(0x1000), 0 &- 0x1000, 0x8000_0001])
    func translateSACK(nops: Int, delta: UInt32) throws {
        let blocks: [(UInt32, UInt32)] = [(1000, 2000), (0xFFFF_FFF0, 0x10), (0, 0xFFFF_FFFF)]
        var bytes = frame(nops: nops, options: [.sack(blocks)])
        let (reason, info) = parse(bytes)
        try #require(reason == nil)
        #expect(info.tcpOptions.sackBlockCount == 3)
        var m = bytes.mutableSpan
        #expect(TCPOptions.translateSACK(&m, tcpOffset: info.l4Offset, summary: info.tcpOptions, delta: delta))
        let expected = frame(nops: nops, options: [.sack(blocks.map { ($0.0 &+ delta, $0.1 &+ delta) })])
        #expect(bytes == expected)
        #expect(FrameChecker.checksumsValid(bytes))
    }

    @Test func translateSACKWithoutBlocks() {
        var bytes = frame(nops: 0, options: [.mss(1000)])
        let (_, info) = parse(bytes)
        var m = bytes.mutableSpan
        #expect(!TCPOptions.translateSACK(&m, tcpOffset: info.l4Offset, summary: info.tcpOptions, delta: 5))
    }

    @Test(arguments: alignments, [false, true])
    func nopOutTOA(nops: Int, v6: Bool) throws {
        let toa: [UInt8] = v6 ? [0, 80] + [UInt8](repeating: 0x20, count: 16) : [0, 80, 192, 0, 2, 1]
        var bytes = frame(nops: nops, options: [.mss(1400), .raw(kind: 254, bytes: toa)], v6: v6)
        let (reason, info) = parse(bytes)
        try #require(reason == nil)
        let o = info.tcpOptions
        #expect(o.toaLength == toa.count + 2)
        #expect(o.toaOffset == info.l4Offset + 20 + nops + 4)
        var m = bytes.mutableSpan
        #expect(TCPOptions.nopOut(&m, offset: o.toaOffset, length: o.toaLength, tcpOffset: info.l4Offset))
        #expect(FrameChecker.checksumsValid(bytes))
        let (after, again) = parse(bytes)
        #expect(after == nil)
        #expect(again.tcpOptions.toaOffset == -1)
        #expect(again.tcpOptions.mssOffset == o.mssOffset)
        #expect(bytes[o.toaOffset..<(o.toaOffset + o.toaLength)].allSatisfy { $0 == 1 })
    }

    @Test func nopOutTimestampsOnSYN() throws {
        var bytes = frame(
            nops: 0, options: [.mss(1460), .sackPermitted, .timestamps(val: 9, ecr: 0), .nop, .windowScale(7)])
        let (_, info) = parse(bytes)
        let ts = info.tcpOptions.timestampOffset
        var m = bytes.mutableSpan
        #expect(TCPOptions.nopOut(&m, offset: ts - 2, length: 10, tcpOffset: info.l4Offset))
        #expect(FrameChecker.checksumsValid(bytes))
        #expect(parse(bytes).1.tcpOptions.timestampOffset == -1)
        #expect(parse(bytes).1.tcpOptions.windowScaleOffset == info.tcpOptions.windowScaleOffset)
    }

    @Test func nopOutRejectsRangesOutsideOptions() {
        var bytes = frame(nops: 0, options: [.mss(1460)])
        let before = bytes
        let count = bytes.count
        let (_, info) = parse(bytes)
        var m = bytes.mutableSpan
        #expect(!TCPOptions.nopOut(&m, offset: info.l4Offset + 10, length: 2, tcpOffset: info.l4Offset))
        #expect(!TCPOptions.nopOut(&m, offset: count - 1, length: 2, tcpOffset: info.l4Offset))
        #expect(bytes == before)
    }

    @Test func scanRejectsHeaderBeyondFrame() {
        let bytes = frame(nops: 0, options: [.mss(1460)])
        var summary = TCPOptionSummary()
        #expect(!TCPOptions.scan(bytes.span, tcpOffset: bytes.count - 20, headerLength: 24, into: &summary))
        #expect(!TCPOptions.scan(bytes.span, tcpOffset: 0, headerLength: 64, into: &summary))
        #expect(TCPOptions.scan(bytes.span, tcpOffset: 18 + 20, headerLength: 24, into: &summary))
        #expect(summary.mssOffset == 18 + 20 + 22)
    }

    @Test func firstOfDuplicateOptionsWins() {
        let bytes = frame(nops: 0, options: [.mss(1000), .mss(2000), .sack([(1, 2)]), .sack([(3, 4), (5, 6)])])
        let (reason, info) = parse(bytes)
        #expect(reason == nil)
        #expect(bytes.span.u16(info.tcpOptions.mssOffset) == 1000)
        #expect(info.tcpOptions.sackBlockCount == 1)
    }

    /// Every header field a FULLNAT rewrite touches, rewritten through rewrite16/rewrite32 plus address
    /// updates of the IPv4 header and the pseudo-header, ends with the same bytes as a frame built with
    /// the new values.
    @Test(arguments: [false, true])
    func fullRewriteMatchesBuiltFrame(udp: Bool) {
        var rng = SplitMix(seed: udp ? 6 : 5)
        for _ in 0..<300 {
            let payload = (0..<Int.random(in: 0..<30, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let (s1, d1) = (
                IPAddress(v4: .random(in: 1...UInt32.max, using: &rng)),
                IPAddress(v4: .random(in: 1...UInt32.max, using: &rng))
            )
            let (s2, d2) = (
                IPAddress(v4: .random(in: 1...UInt32.max, using: &rng)),
                IPAddress(v4: .random(in: 1...UInt32.max, using: &rng))
            )
            let (p1, p2) = (UInt16.random(in: 0...0xFFFF, using: &rng), UInt16.random(in: 0...0xFFFF, using: &rng))
            let (q1, q2) = (
                UInt32.random(in: 0...UInt32.max, using: &rng), UInt32.random(in: 0...UInt32.max, using: &rng)
            )
            func build(_ s: IPAddress, _ d: IPAddress, _ p: UInt16, _ q: UInt32) -> [UInt8] {
                let b = PacketBuilder().ipv4(src: s, dst: d)
                return udp
                    ? b.udp(sport: p, dport: 80, payload: payload).build()
                    : b.tcp(sport: p, dport: 80, seq: q, ack: ~q, payload: payload).build()
            }
            var bytes = build(s1, d1, p1, q1)
            let expected = build(s2, d2, p2, q2)
            let l4 = 34
            let c = udp ? l4 + 6 : l4 + 16
            var m = bytes.mutableSpan
            var ipSum = m.u16(24)
            var l4Sum = m.u16(c)
            ipSum = InternetChecksum.update(ipSum, oldAddress: s1, newAddress: s2)
            ipSum = InternetChecksum.update(ipSum, oldAddress: d1, newAddress: d2)
            if udp {
                l4Sum = InternetChecksum.updateUDP(l4Sum, oldAddress: s1, newAddress: s2)
                l4Sum = InternetChecksum.updateUDP(l4Sum, oldAddress: d1, newAddress: d2)
            } else {
                l4Sum = InternetChecksum.update(l4Sum, oldAddress: s1, newAddress: s2)
                l4Sum = InternetChecksum.update(l4Sum, oldAddress: d1, newAddress: d2)
            }
            m.setAddress(s2, at: 26)
            m.setAddress(d2, at: 30)
            m.set16(ipSum, at: 24)
            m.set16(l4Sum, at: c)
            m.rewrite16(p2, at: l4, checksumAt: c, dataStart: l4, udp: udp)
            if !udp {
                m.rewrite32(q2, at: l4 + 4, checksumAt: c, dataStart: l4)
                m.rewrite32(~q2, at: l4 + 8, checksumAt: c, dataStart: l4)
            }
            #expect(bytes == expected)
        }
    }
}
