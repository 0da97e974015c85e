import SluicePacket
import SluiceTestKit
import Testing

@Suite struct FrameCheckerTests {
    /// A checker that cannot fail proves nothing: every single-byte change under a checksum must be
    /// caught (except in a UDP datagram that carries no checksum).
    @Test(arguments: Fixtures.all)
    func detectsEveryCoveredByteChange(_ fixture: Fixture) {
        let (_, info) = parse(fixture.frame)
        let zeroUDP = info.l4Protocol == 17 && fixture.frame.span.u16(info.l4Offset + 6) == 0
        let start = info.isV6 ? info.l4Offset : info.l3Offset
        let end = zeroUDP ? info.l4Offset : info.ipEnd
        for i in start..<end {
            var f = fixture.frame
            f[i] ^= 0x20
            #expect(!FrameChecker.checksumsValid(f), "byte \(i) of \(fixture.name)")
        }
    }

    @Test func ipv6AddressesAreCoveredByThePseudoHeader() {
        let frame = Fixtures.all.first { $0.isV6 && $0.l4Protocol == 6 }!.frame
        for i in (14 + 8)..<(14 + 40) {
            var f = frame
            f[i] ^= 0x01
            #expect(!FrameChecker.checksumsValid(f), "address byte \(i)")
        }
    }

    @Test func quotedIPv4HeaderIsChecked() {
        var frame = Fixtures.icmpv4Error(inner: Fixtures.innerTCP4())
        let quoted = 14 + 20 + 8
        // Change the quoted TTL and fix the outer ICMP checksum so only the inner header is wrong.
        frame[quoted + 8] &-= 1
        let icmp = 14 + 20
        frame[icmp + 2] = 0
        frame[icmp + 3] = 0
        let c = ~PacketBuilder.fold(PacketBuilder.onesComplementSum(Array(frame[icmp...])))
        frame[icmp + 2] = UInt8(c >> 8)
        frame[icmp + 3] = UInt8(c & 0xFF)
        #expect(FrameChecker.problem(frame) == "quoted IPv4 header checksum wrong")
    }

    @Test func ipv6ZeroUDPChecksumIsInvalid() {
        var frame = PacketBuilder().ipv6(src: "::1", dst: "::2").udp(sport: 1, dport: 2, payload: [1]).build()
        #expect(FrameChecker.checksumsValid(frame))
        frame[60] = 0
        frame[61] = 0
        #expect(!FrameChecker.checksumsValid(frame))
    }
}
