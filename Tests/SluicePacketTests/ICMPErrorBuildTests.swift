import SluicePacket
import SluiceTestKit
import Testing

/// Builds the error in a buffer of `capacity` bytes holding `frame`; returns the error frame or nil.
func buildError(_ frame: [UInt8], kind: ICMPErrorKind, from source: String, capacity: Int = 2048) -> [UInt8]? {
    let (reason, info) = parse(frame)
    #expect(reason == nil)
    var buffer = frame + [UInt8](repeating: 0xEE, count: max(0, capacity - frame.count))
    var length = frame.count
    var m = buffer.mutableSpan
    guard ICMPError.build(&m, length: &length, info: info, kind: kind, from: ip(source)) else {
        #expect(Array(buffer.prefix(frame.count)) == frame, "frame changed although build failed")
        return nil
    }
    return Array(buffer.prefix(length))
}

@Suite struct ICMPErrorBuildTests {
    let tcp4 = PacketBuilder().ethernet(vlan: 9).ipv4(src: "192.0.2.10", dst: "198.51.100.1", ttl: 1)
        .tcp(sport: 40000, dport: 80, seq: 0x0102_0304, payload: [UInt8](repeating: 7, count: 1000)).padding(0).build()
    let udp6 = PacketBuilder().ipv6(
        src: "2001:db8::10", dst: "2001:db8:1::1", extensionHeaders: [.destinationOptions()]
    )
    .udp(sport: 5000, dport: 53, payload: [UInt8](repeating: 9, count: 1400)).build()

    @Test func ipv4TimeExceeded() throws {
        let error = try #require(buildError(tcp4, kind: .timeExceeded, from: "203.0.113.1"))
        #expect(FrameChecker.checksumsValid(error), "\(FrameChecker.problem(error) ?? "")")
        #expect(error.count == 18 + ICMPError.maximumIPv4Length)
        #expect(Array(error.prefix(18)) == Array(tcp4.prefix(18)), "Ethernet header and VLAN tag kept")
        let (reason, info) = parse(error)
        #expect(reason == nil)
        #expect(info.l4Protocol == 1 && info.icmpType == 11 && info.icmpCode == 0)
        #expect(info.source == ip("203.0.113.1") && info.destination == ip("192.0.2.10"))
        #expect(error[info.hopLimitOffset] == 64)
        #expect(info.dontFragment)
        // The quote is the original datagram's beginning.
        #expect(Array(error[(18 + 28)...]) == Array(tcp4[18..<(18 + 576 - 28)]))
        var inner = EmbeddedPacket()
        #expect(PacketParser.parseICMPError(error.span, info: info, into: &inner) == nil)
        #expect(inner.source == ip("192.0.2.10") && inner.sourcePort == 40000 && inner.destinationPort == 80)
        #expect(error.span.u32(inner.l4Offset + 4) == 0x0102_0304)
    }

    @Test func ipv4FragmentationNeededQuotesSmallPacketWhole() throws {
        let small = PacketBuilder().ipv4(src: "192.0.2.10", dst: "198.51.100.1").udp(sport: 1, dport: 2, payload: [1])
            .padding(10).build()
        let error = try #require(buildError(small, kind: .fragmentationNeeded(mtu: 1400), from: "198.51.100.1"))
        #expect(FrameChecker.checksumsValid(error))
        #expect(error.count == 14 + 28 + 29)
        let (_, info) = parse(error)
        #expect(info.icmpType == 3 && info.icmpCode == 4)
        #expect(error.span.u16(info.l4Offset + 6) == 1400)
        #expect(Array(error[42...]) == Array(small[14..<(14 + 29)]))
    }

    @Test func ipv6PacketTooBig() throws {
        let error = try #require(buildError(udp6, kind: .packetTooBig(mtu: 1280), from: "2001:db8:1::1"))
        #expect(FrameChecker.checksumsValid(error), "\(FrameChecker.problem(error) ?? "")")
        #expect(error.count == 14 + ICMPError.maximumIPv6Length)
        let (reason, info) = parse(error)
        #expect(reason == nil)
        #expect(info.isV6 && info.icmpType == 2 && info.icmpCode == 0)
        #expect(error.span.u32(info.l4Offset + 4) == 1280)
        #expect(info.destination == ip("2001:db8::10"))
        #expect(error[info.hopLimitOffset] == 64)
        var inner = EmbeddedPacket()
        #expect(PacketParser.parseICMPError(error.span, info: info, into: &inner) == nil)
        #expect(inner.sourcePort == 5000 && inner.ipHeaderLength == 48)
    }

    @Test func kindsMapPerFamily() throws {
        let v4 = PacketBuilder().ipv4(src: "192.0.2.10", dst: "198.51.100.1").udp(sport: 1, dport: 2).build()
        let v6 = PacketBuilder().ipv6(src: "2001:db8::10", dst: "2001:db8::1").udp(sport: 1, dport: 2).build()
        let cases: [(ICMPErrorKind, Bool, UInt8, UInt8, UInt32)] = [
            (.timeExceeded, false, 11, 0, 0), (.timeExceeded, true, 3, 0, 0),
            (.destinationUnreachable(code: 3), false, 3, 3, 0), (.destinationUnreachable(code: 4), true, 1, 4, 0),
            (.fragmentationNeeded(mtu: 1300), true, 2, 0, 1300), (.packetTooBig(mtu: 70000), false, 3, 4, 0xFFFF),
            (.packetTooBig(mtu: 9000), true, 2, 0, 9000),
        ]
        for (kind, isV6, type, code, rest) in cases {
            let error = try #require(buildError(isV6 ? v6 : v4, kind: kind, from: isV6 ? "2001:db8::1" : "10.0.0.1"))
            #expect(FrameChecker.checksumsValid(error))
            let (_, info) = parse(error)
            #expect(info.icmpType == type && info.icmpCode == code, "\(kind)")
            #expect(error.span.u32(info.l4Offset + 4) == rest, "\(kind)")
        }
    }

    @Test func quoteIsLimitedByBuffer() throws {
        // A 560-byte buffer holding a 554-byte frame: the error is cut to what fits, not to 576.
        let frame = PacketBuilder().ipv4(src: "192.0.2.10", dst: "198.51.100.1")
            .tcp(sport: 1, dport: 2, payload: [UInt8](repeating: 3, count: 500)).build()
        #expect(frame.count == 554)
        let error = try #require(buildError(frame, kind: .timeExceeded, from: "203.0.113.1", capacity: 560))
        #expect(error.count == 560)
        #expect(FrameChecker.checksumsValid(error))
        // Not even the IP header + 8 bytes fit.
        let tiny = PacketBuilder().ipv4(src: "192.0.2.10", dst: "198.51.100.1").udp(sport: 1, dport: 2).build()
        #expect(buildError(tiny, kind: .timeExceeded, from: "10.0.0.1", capacity: tiny.count + 27) == nil)
        #expect(buildError(tiny, kind: .timeExceeded, from: "10.0.0.1", capacity: tiny.count + 28) != nil)
    }

    @Test func refusals() {
        let b4 = PacketBuilder().ipv4(src: "192.0.2.10", dst: "198.51.100.1")
        // Family mismatch.
        #expect(buildError(b4.udp(sport: 1, dport: 2).build(), kind: .timeExceeded, from: "2001:db8::1") == nil)
        // No error about an error (RFC 1122 §3.2.2) — but one about an echo request is fine.
        #expect(
            buildError(
                b4.icmp(type: 3, code: 1, payload: Fixtures.innerUDP4()).build(), kind: .timeExceeded, from: "10.0.0.1")
                == nil)
        #expect(buildError(b4.icmp(type: 8).build(), kind: .timeExceeded, from: "10.0.0.1") != nil)
        // Bad sources and destinations.
        for (s, d) in [
            ("0.0.0.0", "10.0.0.1"), ("127.0.0.1", "10.0.0.1"), ("224.0.0.5", "10.0.0.1"),
            ("255.255.255.255", "10.0.0.1"), ("10.0.0.2", "239.1.1.1"), ("10.0.0.2", "255.255.255.255"),
        ] {
            let f = PacketBuilder().ipv4(src: s, dst: d).udp(sport: 1, dport: 2).build()
            #expect(buildError(f, kind: .timeExceeded, from: "10.0.0.1") == nil, "\(s) → \(d)")
        }
        let b6 = PacketBuilder().ipv6(src: "2001:db8::10", dst: "2001:db8::1")
        #expect(
            buildError(
                b6.icmpv6(type: 1, payload: Fixtures.innerTCP6()).build(), kind: .timeExceeded, from: "2001:db8::1")
                == nil)
        #expect(buildError(b6.icmpv6(type: 128).build(), kind: .timeExceeded, from: "2001:db8::1") != nil)
        let multicast = PacketBuilder().ipv6(src: "2001:db8::10", dst: "ff02::1").udp(sport: 1, dport: 2).build()
        #expect(buildError(multicast, kind: .timeExceeded, from: "2001:db8::1") == nil)
        #expect(buildError(multicast, kind: .packetTooBig(mtu: 1280), from: "2001:db8::1") != nil)
        for s in ["::", "::1", "ff02::1"] {
            let f = PacketBuilder().ipv6(src: s, dst: "2001:db8::1").udp(sport: 1, dport: 2).build()
            #expect(buildError(f, kind: .timeExceeded, from: "2001:db8::1") == nil, "\(s)")
        }
    }
}
