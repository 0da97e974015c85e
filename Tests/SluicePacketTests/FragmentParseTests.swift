// The parser's view of IP fragments (docs/protocol.md §3 "Fragments"): first fragments parse like
// whole packets and must hold the whole transport header, later fragments parse without ports, IPv6
// fragment headers are walked, atomic fragments stay whole packets (RFC 6946), and the RFC 1858 rules
// refuse tiny first fragments and later fragments that overlap the transport header.

import SluicePacket
import SluiceTestKit
import Testing

@Suite struct FragmentParseTests {
    static let payload = (0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 7) }

    static func udp4() -> [UInt8] {
        PacketBuilder().ipv4(src: "198.51.100.2", dst: "203.0.113.10", df: false)
            .udp(sport: 5555, dport: 53, payload: payload).build()
    }

    static func udp6() -> [UInt8] {
        PacketBuilder().ipv6(src: "2001:db8:c::2", dst: "2001:db8:f::10").udp(sport: 5555, dport: 53, payload: payload)
            .build()
    }

    @Test func ipv4FirstAndLaterFragments() throws {
        let pieces = Fragmenter.fragments(of: Self.udp4(), chunk: 1480, identification: 0xBEEF)
        #expect(pieces.count == 3)
        let (firstReason, first) = parse(pieces[0])
        #expect(firstReason == nil)
        expectConsistent(first, length: pieces[0].count)
        #expect(first.fragment == .first && first.moreFragments && first.fragmentOffset == 0)
        #expect(first.fragmentIdentification == 0xBEEF)
        #expect(first.l4Protocol == 17 && first.sourcePort == 5555 && first.destinationPort == 53)
        // The UDP length names the whole datagram; the payload here ends with the fragment.
        #expect(first.payloadOffset == 14 + 20 + 8 && first.payloadLength == 1480 - 8)
        let (laterReason, later) = parse(pieces[1])
        #expect(laterReason == nil)
        expectConsistent(later, length: pieces[1].count)
        #expect(later.fragment == .later && later.moreFragments && later.fragmentOffset == 1480)
        #expect(later.fragmentIdentification == 0xBEEF && later.l4Protocol == 17)
        #expect(later.sourcePort == 0 && later.destinationPort == 0)
        #expect(later.payloadOffset == later.l4Offset && later.payloadLength == 1480)
        #expect(later.source == IPAddress("198.51.100.2")! && later.destination == IPAddress("203.0.113.10")!)
        let (lastReason, last) = parse(pieces[2])
        #expect(lastReason == nil)
        #expect(last.fragment == .later && !last.moreFragments && last.fragmentOffset == 2960)
        #expect(last.payloadLength == 3008 - 2960)
    }

    @Test func ipv6FirstAndLaterFragments() throws {
        let pieces = Fragmenter.fragments(of: Self.udp6(), chunk: 1448, identification: 0xDEAD_BEEF)
        #expect(pieces.count == 3)
        let (firstReason, first) = parse(pieces[0])
        #expect(firstReason == nil)
        expectConsistent(first, length: pieces[0].count)
        #expect(first.fragment == .first && first.fragmentIdentification == 0xDEAD_BEEF)
        #expect(first.fragmentHeaderOffset == 14 + 40 && first.l4Offset == 14 + 48 && first.ipHeaderLength == 48)
        #expect(first.sourcePort == 5555 && first.destinationPort == 53 && first.payloadLength == 1448 - 8)
        let (laterReason, later) = parse(pieces[2])
        #expect(laterReason == nil)
        expectConsistent(later, length: pieces[2].count)
        #expect(later.fragment == .later && !later.moreFragments && later.fragmentOffset == 2896)
        #expect(later.l4Protocol == 17 && later.sourcePort == 0 && later.fragmentHeaderOffset == 14 + 40)
        #expect(later.payloadOffset == 14 + 48 && later.payloadLength == 3008 - 2896)
    }

    @Test func tcpFirstFragmentWithItsOptionsAndTheLaterOnes() {
        let segment = PacketBuilder().ipv4(src: "198.51.100.2", dst: "203.0.113.10", df: false)
            .tcp(sport: 40000, dport: 80, options: [.mss(1460), .nop, .windowScale(7)], payload: Self.payload).build()
        let pieces = Fragmenter.fragments(of: segment, chunk: 32, identification: 9)
        let (reason, first) = parse(pieces[0])
        #expect(reason == nil && first.fragment == .first && first.tcpHeaderLength == 28)
        #expect(first.tcpOptions.mssOffset == 14 + 20 + 22 && first.payloadLength == 32 - 28)
        // Offset 32: beyond even a 60-byte header's first 20 bytes, so accepted.
        #expect(parse(pieces[1]).0 == nil && parse(pieces[1]).1.fragmentOffset == 32)
    }

    @Test func tinyFirstFragmentsAreRefused() {
        // 8 bytes of a 28-byte TCP header: the ports, but not the flags the connection is judged by.
        let segment = PacketBuilder().ipv4(src: "198.51.100.2", dst: "203.0.113.10", df: false)
            .tcp(sport: 40000, dport: 80, options: [.mss(1460), .nop, .windowScale(7)]).build()
        #expect(parse(Fragmenter.fragments(of: segment, chunk: 8, identification: 1)[0]).0 == .tinyFragment)
        #expect(parse(Fragmenter.fragments(of: segment, chunk: 24, identification: 1)[0]).0 == .tinyFragment)
        #expect(parse(Fragmenter.fragments(of: segment, chunk: 32, identification: 1)[0]).0 == nil)
        // UDP needs its 8 bytes: a fragment of 8 carries exactly the header and is fine.
        #expect(parse(Fragmenter.fragments(of: Self.udp4(), chunk: 8, identification: 1)[0]).0 == nil)
        #expect(parse(MalformedFixtures.v4Fragment(udpBytes: 7, more: true, offset: 0)).0 == .tinyFragment)
    }

    @Test func laterFragmentsInsideTheTransportHeaderAreRefused() {
        let segment = PacketBuilder().ipv4(src: "198.51.100.2", dst: "203.0.113.10", df: false)
            .tcp(sport: 40000, dport: 80, payload: Self.payload).build()
        let pieces = Fragmenter.fragments(of: segment, chunk: 8, identification: 1)
        // Offsets 8 and 16 lie in the 20-byte TCP header; 24 does not.
        #expect(parse(pieces[1]).0 == .fragmentOverlap)
        #expect(parse(pieces[2]).0 == .fragmentOverlap)
        #expect(parse(pieces[3]).0 == nil)
        // UDP's 8-byte header ends where the first possible offset begins.
        #expect(parse(Fragmenter.fragments(of: Self.udp4(), chunk: 8, identification: 1)[1]).0 == nil)
    }

    @Test func atomicFragmentsAreWholePackets() {
        let atomic = PacketBuilder().ipv6(
            src: "2001:db8:c::2", dst: "2001:db8:f::10", extensionHeaders: [.fragment(offset: 0, more: false)]
        ).udp(sport: 5555, dport: 53, payload: [1, 2, 3]).build()
        let (reason, info) = parse(atomic)
        #expect(reason == nil && info.fragment == .whole && info.fragmentIdentification == 0)
        #expect(info.sourcePort == 5555 && info.payloadLength == 3)
        let whole = parse(Self.udp4())
        #expect(whole.0 == nil && whole.1.fragment == .whole && !whole.1.dontFragment)
    }

    @Test func everyPrefixOfAFragmentIsDroppedOrConsistent() {
        let pieces =
            Fragmenter.fragments(of: Self.udp4(), chunk: 1480, identification: 3)
            + Fragmenter.fragments(of: Self.udp6(), chunk: 1448, identification: 3)
        for piece in pieces {
            for length in 0...piece.count {
                var info = PacketInfo()
                if PacketParser.parse(piece.span, length: length, into: &info) == nil {
                    expectConsistent(info, length: length)
                }
            }
        }
    }
}
