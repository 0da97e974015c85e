import SluicePacket
import SluiceTestKit
import Testing

/// Parses `frame` (all of it) and returns the reason and the result.
func parse(_ frame: [UInt8], length: Int? = nil) -> (DropReason?, PacketInfo) {
    var info = PacketInfo()
    let reason = PacketParser.parse(frame.span, length: length ?? frame.count, into: &info)
    return (reason, info)
}

/// The invariants every accepted parse must satisfy: all offsets inside the datagram.
func expectConsistent(_ info: PacketInfo, length: Int, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(info.l3Offset == 14 || info.l3Offset == 18, sourceLocation: sourceLocation)
    #expect(info.ipEnd <= length, sourceLocation: sourceLocation)
    #expect(info.l4Offset == info.l3Offset + info.ipHeaderLength, sourceLocation: sourceLocation)
    #expect(info.l4Offset <= info.payloadOffset, sourceLocation: sourceLocation)
    #expect(info.payloadOffset + info.payloadLength <= info.ipEnd, sourceLocation: sourceLocation)
    #expect(info.hopLimitOffset < info.l4Offset, sourceLocation: sourceLocation)
    let o = info.tcpOptions
    for offset in [
        o.mssOffset, o.windowScaleOffset, o.sackPermittedOffset, o.timestampOffset, o.sackOffset, o.toaOffset,
    ]
    where offset >= 0 {
        #expect(offset > info.l4Offset && offset < info.payloadOffset, sourceLocation: sourceLocation)
    }
    if o.sackOffset >= 0 {
        #expect(o.sackOffset + 8 * o.sackBlockCount <= info.payloadOffset, sourceLocation: sourceLocation)
    }
}

@Suite struct PacketParserTests {
    @Test(arguments: Fixtures.all)
    func fixtureParses(_ fixture: Fixture) {
        let (reason, info) = parse(fixture.frame)
        #expect(reason == nil)
        #expect(info.isV6 == fixture.isV6)
        #expect(info.l3Offset == fixture.l3Offset)
        #expect(info.l4Protocol == fixture.l4Protocol)
        #expect(info.sourcePort == fixture.sourcePort)
        #expect(info.destinationPort == fixture.destinationPort)
        #expect(info.ipHeaderLength == fixture.ipHeaderLength)
        #expect(info.payloadLength == fixture.payloadLength)
        #expect(info.source.isV6 == fixture.isV6 && info.destination.isV6 == fixture.isV6)
        #expect(info.hopLimitOffset == fixture.l3Offset + (fixture.isV6 ? 7 : 8))
        #expect(fixture.frame[info.hopLimitOffset] == 64)
        expectConsistent(info, length: fixture.frame.count)
        #expect(FrameChecker.checksumsValid(fixture.frame), "\(FrameChecker.problem(fixture.frame) ?? "")")
    }

    @Test func tcpFieldsAndOptions() throws {
        let frame = PacketBuilder().ethernet(vlan: 42).ipv4(src: "10.1.2.3", dst: "10.4.5.6", ttl: 9, df: true)
            .tcp(
                sport: 1234, dport: 80, seq: 5, ack: 6, flags: TCPFlag.syn | TCPFlag.ece | TCPFlag.cwr,
                options: Fixtures.tcpOptions + [.raw(kind: 254, bytes: [0, 80, 1, 2, 3, 4])], payload: [1, 2, 3]
            ).build()
        let (reason, info) = parse(frame)
        #expect(reason == nil)
        #expect(info.vlanID == 42)
        #expect(info.source == ip("10.1.2.3"))
        #expect(info.destination == ip("10.4.5.6"))
        #expect(info.dontFragment)
        #expect(info.tcpFlags == TCPFlag.syn | TCPFlag.ece | TCPFlag.cwr)
        #expect(info.tcpHeaderLength == 20 + 28)
        #expect(info.payloadOffset == 18 + 20 + 48)
        #expect(info.payloadLength == 3)
        #expect(frame[info.hopLimitOffset] == 9)
        let t = 18 + 20
        let o = info.tcpOptions
        // mss(4) sackPermitted(2) timestamps(10) nop(1) windowScale(3) toa(8) + pad
        #expect(o.mssOffset == t + 22)
        #expect(o.sackPermittedOffset == t + 24)
        #expect(o.timestampOffset == t + 28)
        #expect(o.windowScaleOffset == t + 39)
        #expect(o.toaOffset == t + 40 && o.toaLength == 8)
        #expect(o.sackOffset == -1 && o.sackBlockCount == 0)
        #expect(frame[o.windowScaleOffset] == 7)
        #expect(UInt16(frame[o.mssOffset]) << 8 | UInt16(frame[o.mssOffset + 1]) == 1460)
    }

    @Test func ipv6Fields() {
        let frame = PacketBuilder().ipv6(src: "2001:db8::1", dst: "2001:db8::2", hopLimit: 3)
            .tcp(sport: 1, dport: 2, options: Fixtures.sackOptions).build()
        let (reason, info) = parse(frame)
        #expect(reason == nil)
        #expect(info.isV6 && info.dontFragment)
        #expect(info.source == ip("2001:db8::1"))
        #expect(info.destination == ip("2001:db8::2"))
        #expect(frame[info.hopLimitOffset] == 3)
        #expect(info.tcpOptions.sackBlockCount == 3)
        #expect((info.tcpOptions.sackOffset - info.l4Offset) & 1 == 1)
        #expect(info.tcpOptions.timestampOffset == info.l4Offset + 23)
    }

    @Test func ethernetPaddingIsNotPayload() {
        let frame = PacketBuilder().ipv4(src: "10.0.0.1", dst: "10.0.0.2").tcp(sport: 1, dport: 2).padding(6).build()
        let (reason, info) = parse(frame)
        #expect(reason == nil)
        #expect(info.ipEnd == 14 + 40)
        #expect(frame.count == 14 + 40 + 6)
        #expect(info.payloadLength == 0)
    }

    @Test func lengthSmallerThanBufferIsRespected() {
        var frame = PacketBuilder().ipv4(src: "10.0.0.1", dst: "10.0.0.2").udp(sport: 1, dport: 2, payload: [1, 2])
            .build()
        let realLength = frame.count
        frame += [UInt8](repeating: 0xEE, count: 100)
        #expect(parse(frame, length: realLength).0 == nil)
        #expect(parse(frame, length: realLength - 1).0 != nil)
    }

    @Test func udpShorterThanDatagramIsAccepted() {
        var frame = PacketBuilder().ipv4(src: "10.0.0.1", dst: "10.0.0.2").udp(
            sport: 1, dport: 2, payload: [1, 2, 3, 4]
        )
        .build()
        frame[14 + 20 + 5] = 10  // UDP length 10 of 12
        let (reason, info) = parse(frame)
        #expect(reason == nil)
        #expect(info.payloadLength == 2)
    }

    @Test func unsupportedProtocolFillsAddresses() {
        let frame = PacketBuilder().ipv4(src: "10.0.0.1", dst: "10.0.0.2").rawTransport(
            protocol: 47, bytes: [0, 0, 8, 0]
        )
        .build()
        let (reason, info) = parse(frame)
        #expect(reason == .unsupportedProtocol)
        #expect(info.source == ip("10.0.0.1") && info.destination == ip("10.0.0.2"))
        #expect(info.l4Protocol == 47)
        #expect(info.sourcePort == 0 && info.destinationPort == 0)
        let esp = PacketBuilder().ipv6(src: "::1", dst: "::2", extensionHeaders: [.destinationOptions()])
            .rawTransport(protocol: 50, bytes: [UInt8](repeating: 1, count: 16)).build()
        let (reason6, info6) = parse(esp)
        #expect(reason6 == .unsupportedProtocol)
        #expect(info6.l4Protocol == 50)
        #expect(info6.destination == ip("::2"))
        #expect(info6.ipHeaderLength == 48)
    }

    @Test func reusedInfoIsReset() {
        var info = PacketInfo()
        let tcp = Fixtures.all[1].frame
        let icmp = PacketBuilder().ipv4(src: "10.0.0.1", dst: "10.0.0.2").icmp(type: 8).build()
        #expect(PacketParser.parse(tcp.span, length: tcp.count, into: &info) == nil)
        #expect(info.tcpOptions.mssOffset > 0)
        #expect(PacketParser.parse(icmp.span, length: icmp.count, into: &info) == nil)
        #expect(info.sourcePort == 0 && info.tcpFlags == 0 && info.tcpHeaderLength == 0)
        #expect(info.tcpOptions == TCPOptionSummary())
        #expect(info.icmpType == 8)
    }
}
