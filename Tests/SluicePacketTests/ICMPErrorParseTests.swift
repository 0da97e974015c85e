import SluicePacket
import SluiceTestKit
import Testing

func parseError(_ frame: [UInt8]) -> (DropReason?, EmbeddedPacket) {
    let (reason, info) = parse(frame)
    #expect(reason == nil)
    var inner = EmbeddedPacket()
    let r = PacketParser.parseICMPError(frame.span, info: info, into: &inner)
    return (r, inner)
}

@Suite struct ICMPErrorParseTests {
    @Test func ipv4FragmentationNeededQuotingTCP() {
        let frame = Fixtures.icmpv4Error(inner: Fixtures.innerTCP4())
        let (reason, inner) = parseError(frame)
        #expect(reason == nil)
        #expect(inner.l3Offset == 14 + 20 + 8)
        #expect(!inner.isV6)
        #expect(inner.source == ip(Fixtures.vip4) && inner.destination == ip(Fixtures.client4))
        #expect(inner.ipHeaderLength == 20)
        #expect(inner.l4Protocol == 6 && inner.l4Offset == 14 + 20 + 8 + 20)
        #expect(inner.sourcePort == 80 && inner.destinationPort == 40000)
        #expect(inner.hasTCPSequence)
        #expect(frame.span.u32(inner.l4Offset + 4) == 0xDEAD_BEEF)
        #expect(inner.end == frame.count)
    }

    @Test(arguments: [UInt8(3), 4, 11])
    func ipv4RelatedTypes(type: UInt8) {
        let (reason, inner) = parseError(Fixtures.icmpv4Error(inner: Fixtures.innerUDP4(), type: type, code: 0))
        #expect(reason == nil)
        #expect(inner.l4Protocol == 17 && !inner.hasTCPSequence)
        #expect(inner.sourcePort == 53 && inner.destinationPort == 5353)
    }

    @Test(arguments: [UInt8(0), 5, 8, 12, 13])
    func ipv4UnrelatedTypes(type: UInt8) {
        #expect(parseError(Fixtures.icmpv4Error(inner: Fixtures.innerTCP4(), type: type, code: 0)).0 == .icmpNotRelated)
    }

    @Test(arguments: [UInt8(1), 2, 3])
    func ipv6RelatedTypes(type: UInt8) {
        let frame = Fixtures.icmpv6Error(inner: Fixtures.innerTCP6(), type: type)
        let (reason, inner) = parseError(frame)
        #expect(reason == nil)
        #expect(inner.isV6 && inner.ipHeaderLength == 40)
        #expect(inner.source == ip(Fixtures.vip6) && inner.destination == ip(Fixtures.client6))
        #expect(inner.sourcePort == 443 && inner.destinationPort == 50000 && inner.hasTCPSequence)
    }

    @Test(arguments: [UInt8(4), 128, 129, 135, 136])
    func ipv6UnrelatedTypes(type: UInt8) {
        #expect(parseError(Fixtures.icmpv6Error(inner: Fixtures.innerTCP6(), type: type)).0 == .icmpNotRelated)
    }

    @Test func nonICMPIsNotRelated() {
        let frame = Fixtures.all[0].frame
        let (_, info) = parse(frame)
        var inner = EmbeddedPacket()
        #expect(PacketParser.parseICMPError(frame.span, info: info, into: &inner) == .icmpNotRelated)
    }

    @Test func ipv6QuotedExtensionHeadersAndFirstFragment() {
        let quoted = PacketBuilder().ipv6(
            src: Fixtures.vip6, dst: Fixtures.client6,
            extensionHeaders: [.hopByHop(), .routing(segmentsLeft: 2), .fragment(offset: 0, more: true)]
        ).udp(sport: 123, dport: 456, payload: [UInt8](repeating: 1, count: 40)).buildIP()
        let (reason, inner) = parseError(Fixtures.icmpv6Error(inner: quoted, type: 1))
        #expect(reason == nil)
        #expect(inner.ipHeaderLength == 40 + 8 + 8 + 8)
        #expect(inner.l4Protocol == 17 && inner.sourcePort == 123 && inner.destinationPort == 456)
    }

    @Test func quotedNonFirstFragmentIsDropped() {
        let v4 = PacketBuilder().ipv4(src: Fixtures.vip4, dst: Fixtures.client4, df: false, fragmentOffset: 10)
            .udp(sport: 1, dport: 2, payload: [1, 2, 3]).buildIP()
        #expect(parseError(Fixtures.icmpv4Error(inner: v4)).0 == .fragment)
        let v4First = PacketBuilder().ipv4(src: Fixtures.vip4, dst: Fixtures.client4, df: false, moreFragments: true)
            .udp(sport: 1, dport: 2, payload: [1, 2, 3]).buildIP()
        #expect(parseError(Fixtures.icmpv4Error(inner: v4First)).0 == nil)
        let v6 = PacketBuilder().ipv6(
            src: Fixtures.vip6, dst: Fixtures.client6, extensionHeaders: [.fragment(offset: 3, more: true)]
        ).udp(sport: 1, dport: 2, payload: [1, 2, 3]).buildIP()
        #expect(parseError(Fixtures.icmpv6Error(inner: v6)).0 == .fragment)
    }

    @Test func badChecksumIsRejected() {
        var v4 = Fixtures.icmpv4Error(inner: Fixtures.innerTCP4())
        v4[v4.count - 1] ^= 0xFF
        #expect(parseError(v4).0 == .badL4Checksum)
        var v6 = Fixtures.icmpv6Error(inner: Fixtures.innerTCP6())
        v6[14 + 8] ^= 0x01  // source address: the pseudo-header must be included
        #expect(parseError(v6).0 == .badL4Checksum)
    }

    @Test func malformedQuotes() {
        // Family mismatch: an IPv6 packet quoted in ICMPv4.
        #expect(parseError(Fixtures.icmpv4Error(inner: Fixtures.innerTCP6())).0 == .badICMP)
        #expect(parseError(Fixtures.icmpv6Error(inner: Fixtures.innerTCP4())).0 == .badICMP)
        // IHL 4 in the quoted header.
        var bad = Fixtures.innerTCP4()
        bad[0] = 0x44
        #expect(parseError(Fixtures.icmpv4Error(inner: bad)).0 == .badICMP)
        // Quoted IPv6 extension header running past the quote.
        let ext = Array(
            PacketBuilder().ipv6(src: Fixtures.vip6, dst: Fixtures.client6, extensionHeaders: [.destinationOptions()])
                .udp(sport: 1, dport: 2).buildIP().prefix(44))
        #expect(parseError(Fixtures.icmpv6Error(inner: ext)).0 == .badICMP)
        // Quoted ICMP echo: no connection.
        let echo = PacketBuilder().ipv4(src: Fixtures.vip4, dst: Fixtures.client4).icmp(type: 8).buildIP()
        #expect(parseError(Fixtures.icmpv4Error(inner: echo)).0 == .icmpNotRelated)
    }
}
