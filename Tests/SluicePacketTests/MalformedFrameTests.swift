import SluicePacket
import SluiceTestKit
import Testing

/// A frame patched into one specific defect, and the drop reason it must map to.
struct Malformed: CustomStringConvertible, Sendable {
    var name: String
    var frame: [UInt8]
    var reason: DropReason
    var description: String { name }
}

/// Applies `patch` to a copy of `frame`; with `resign`, recomputes the IPv4 header checksum after.
func patched(_ frame: [UInt8], resign: Bool = false, l3: Int = 14, _ patch: (inout [UInt8]) -> Void) -> [UInt8] {
    var f = frame
    patch(&f)
    if resign { PacketBuilder.fixIPv4HeaderChecksum(&f, l3Offset: l3) }
    return f
}

enum MalformedFixtures {
    static var all: [Malformed] {
        let v4 = PacketBuilder().ipv4(src: "10.0.0.1", dst: "10.0.0.2")
        let v6 = PacketBuilder().ipv6(src: "2001:db8::1", dst: "2001:db8::2")
        let tcp4 = v4.tcp(sport: 1, dport: 2, payload: [1, 2, 3, 4]).build()
        let udp4 = v4.udp(sport: 1, dport: 2, payload: [1, 2, 3, 4]).build()
        let tcp6 = v6.tcp(sport: 1, dport: 2).build()
        var out: [Malformed] = []
        func add(_ name: String, _ frame: [UInt8], _ reason: DropReason) {
            out.append(Malformed(name: name, frame: frame, reason: reason))
        }
        add(
            "ARP ethertype",
            patched(tcp4) {
                $0[12] = 0x08; $0[13] = 0x06
            }, .unsupportedEthertype)
        add(
            "double VLAN tag",
            PacketBuilder().ethernet(vlan: 5).ipv4(src: "10.0.0.1", dst: "10.0.0.2").tcp(sport: 1, dport: 2).build()
                .replacing(at: 16, with: [0x81, 0x00]), .unsupportedEthertype)
        add("IPv4 version 5", patched(tcp4, resign: true) { $0[14] = 0x55 }, .badIPv4Header)
        add("IPv4 IHL 4", patched(tcp4, resign: true) { $0[14] = 0x44 }, .badIPv4Header)
        add("IPv4 total length beyond frame", patched(tcp4, resign: true) { $0[17] &+= 1 }, .badIPv4Header)
        add(
            "IPv4 total length below IHL",
            patched(tcp4, resign: true) {
                $0[16] = 0; $0[17] = 19
            }, .badIPv4Header)
        add("IPv4 header checksum", patched(tcp4) { $0[24] ^= 0x01 }, .badIPv4Checksum)
        add("IPv4 TTL changed without checksum", patched(tcp4) { $0[22] -= 1 }, .badIPv4Checksum)
        add(
            "IPv4 ICMP fragment",
            patched(v4.rawTransport(protocol: 1, bytes: [8, 0, 0, 0, 0, 0, 0, 0]).build(), resign: true) {
                $0[20] = 0x20; $0[21] = 0
            }, .fragment)
        add("IPv4 UDP first fragment of 4 bytes", v4Fragment(udpBytes: 4, more: true, offset: 0), .tinyFragment)
        add(
            "IPv4 TCP first fragment without its options",
            PacketBuilder().ipv4(src: "10.0.0.1", dst: "10.0.0.2", df: false, moreFragments: true)
                .rawTransport(protocol: 6, bytes: Array(tcpWithOptions([.mss(1460)])[34..<54])).build(), .tinyFragment)
        add(
            "IPv4 TCP later fragment at offset 8",
            PacketBuilder().ipv4(src: "10.0.0.1", dst: "10.0.0.2", df: false, fragmentOffset: 1)
                .rawTransport(protocol: 6, bytes: [1, 2, 3, 4]).build(), .fragmentOverlap)
        add("IPv6 version 4", patched(tcp6) { $0[14] = 0x40 }, .badIPv6Header)
        add("IPv6 payload length beyond frame", patched(tcp6) { $0[19] &+= 1 }, .badIPv6Header)
        add(
            "IPv6 fragment header before destination options",
            PacketBuilder().ipv6(
                src: "::1", dst: "::2", extensionHeaders: [.fragment(offset: 0, more: true), .destinationOptions()]
            ).udp(sport: 1, dport: 2).build(), .fragment)
        add(
            "IPv6 ICMPv6 fragment",
            PacketBuilder().ipv6(src: "::1", dst: "::2", extensionHeaders: [.fragment(offset: 8, more: false)])
                .icmpv6(type: 128).build(), .fragment)
        add(
            "IPv6 UDP first fragment of 4 bytes",
            PacketBuilder().ipv6(src: "::1", dst: "::2", extensionHeaders: [.fragment(offset: 0, more: true)])
                .rawTransport(protocol: 17, bytes: [0, 1, 0, 2]).build(), .tinyFragment)
        add(
            "IPv6 TCP later fragment at offset 16",
            PacketBuilder().ipv6(src: "::1", dst: "::2", extensionHeaders: [.fragment(offset: 2, more: true)])
                .rawTransport(protocol: 6, bytes: [1, 2, 3, 4, 5, 6, 7, 8]).build(), .fragmentOverlap)
        add(
            "IPv6 hop-by-hop not first",
            PacketBuilder().ipv6(src: "::1", dst: "::2", extensionHeaders: [.destinationOptions(), .hopByHop()])
                .udp(sport: 1, dport: 2).build(), .badExtensionHeader)
        add(
            "IPv6 routing header with segments left",
            PacketBuilder().ipv6(src: "::1", dst: "::2", extensionHeaders: [.routing(segmentsLeft: 1)])
                .udp(sport: 1, dport: 2).build(), .badExtensionHeader)
        add(
            "IPv6 too many extension headers",
            PacketBuilder().ipv6(
                src: "::1", dst: "::2",
                extensionHeaders: [PacketBuilder.IPv6ExtensionHeader](repeating: .destinationOptions(), count: 9)
            ).udp(sport: 1, dport: 2).build(), .badExtensionHeader)
        add(
            "IPv6 extension header longer than payload",
            patched(
                PacketBuilder().ipv6(src: "::1", dst: "::2", extensionHeaders: [.destinationOptions()])
                    .udp(sport: 1, dport: 2).build()
            ) { $0[14 + 40 + 1] = 5 }, .badExtensionHeader)
        add(
            "IPv6 no next header",
            PacketBuilder().ipv6(src: "::1", dst: "::2").rawTransport(protocol: 59, bytes: []).build(),
            .unsupportedProtocol)
        add(
            "ICMP over IPv6",
            PacketBuilder().ipv6(src: "::1", dst: "::2").rawTransport(protocol: 1, bytes: [8, 0, 0, 0])
                .build(), .unsupportedProtocol)
        add(
            "ICMPv6 over IPv4", v4.rawTransport(protocol: 58, bytes: [128, 0, 0, 0, 0, 0, 0, 0]).build(),
            .unsupportedProtocol)
        add("TCP data offset 4", patched(tcp4) { $0[14 + 20 + 12] = 0x40 }, .badTCPHeader)
        add("TCP data offset beyond datagram", patched(tcp4) { $0[14 + 20 + 12] = 0x70 }, .badTCPHeader)
        add(
            "TCP shorter than 20 bytes", v4.rawTransport(protocol: 6, bytes: [UInt8](repeating: 0, count: 19)).build(),
            .badTCPHeader)
        add("TCP option length 0", tcpWithOptions([.bytes([2, 0, 0, 0])]), .badTCPOptions)
        add("TCP option length 1", tcpWithOptions([.bytes([0x22, 1, 0, 0])]), .badTCPOptions)
        add("TCP option past header", tcpWithOptions([.nop, .nop, .bytes([0x22, 3])]), .badTCPOptions)
        add("TCP option kind without length", tcpWithOptions([.nop, .nop, .nop, .bytes([0x22])]), .badTCPOptions)
        add("TCP MSS length 3", tcpWithOptions([.bytes([2, 3, 5, 0])]), .badTCPOptions)
        add("TCP window scale length 4", tcpWithOptions([.raw(kind: 3, bytes: [1, 2])]), .badTCPOptions)
        add("TCP SACK length 6", tcpWithOptions([.raw(kind: 5, bytes: [1, 2, 3, 4]), .nop, .nop]), .badTCPOptions)
        add("TCP timestamps length 8", tcpWithOptions([.raw(kind: 8, bytes: [1, 2, 3, 4, 5, 6])]), .badTCPOptions)
        add("UDP length 7", patched(udp4) { $0[14 + 20 + 5] = 7 }, .badUDPHeader)
        add("UDP length beyond datagram", patched(udp4) { $0[14 + 20 + 5] = 13 }, .badUDPHeader)
        add(
            "UDP shorter than 8 bytes", v4.rawTransport(protocol: 17, bytes: [0, 1, 0, 2, 0, 7, 0]).build(),
            .badUDPHeader)
        add(
            "IPv6 UDP zero checksum",
            patched(v6.udp(sport: 1, dport: 2, payload: [1]).build()) {
                $0[60] = 0; $0[61] = 0
            },
            .badUDPHeader)
        add("ICMP shorter than 8 bytes", v4.rawTransport(protocol: 1, bytes: [3, 3, 0, 0, 0, 0, 0]).build(), .badICMP)
        add("ICMPv6 shorter than 8 bytes", v6.rawTransport(protocol: 58, bytes: [1, 0, 0, 0]).build(), .badICMP)
        return out
    }

    /// A UDP fragment whose datagram payload here is the first `udpBytes` bytes of a UDP header and payload.
    static func v4Fragment(udpBytes: Int, more: Bool, offset: UInt16) -> [UInt8] {
        let udp = PacketBuilder().ipv4(src: "10.0.0.1", dst: "10.0.0.2").udp(sport: 1, dport: 2, payload: [1, 2, 3])
            .build()
        return PacketBuilder().ipv4(
            src: "10.0.0.1", dst: "10.0.0.2", df: false, moreFragments: more, fragmentOffset: offset
        ).rawTransport(protocol: 17, bytes: Array(udp[34..<(34 + udpBytes)])).build()
    }

    static func tcpWithOptions(_ options: [TCPOptionSpec]) -> [UInt8] {
        PacketBuilder().ipv4(src: "10.0.0.1", dst: "10.0.0.2").tcp(sport: 1, dport: 2, options: options).build()
    }
}

extension Array where Element == UInt8 {
    func replacing(at offset: Int, with bytes: [UInt8]) -> [UInt8] {
        var copy = self
        copy.replaceSubrange(offset..<(offset + bytes.count), with: bytes)
        return copy
    }
}

@Suite struct MalformedFrameTests {
    @Test(arguments: MalformedFixtures.all)
    func mapsToDropReason(_ m: Malformed) {
        #expect(parse(m.frame).0 == m.reason)
    }

    @Test func dontFragmentIsAccepted() {
        let df = PacketBuilder().ipv4(src: "10.0.0.1", dst: "10.0.0.2", df: true).udp(sport: 1, dport: 2).build()
        let plain = PacketBuilder().ipv4(src: "10.0.0.1", dst: "10.0.0.2", df: false).udp(sport: 1, dport: 2).build()
        #expect(parse(df).0 == nil && parse(df).1.dontFragment)
        #expect(parse(plain).0 == nil && !parse(plain).1.dontFragment)
    }

    @Test func optionsAfterEndOfListAreIgnored() {
        let frame = MalformedFixtures.tcpWithOptions([.mss(1400), .eol, .bytes([0x22, 0, 0x22])])
        let (reason, info) = parse(frame)
        #expect(reason == nil)
        #expect(info.tcpOptions.mssOffset == 14 + 20 + 22)
    }

    @Test func unknownOptionsAreSkipped() {
        let frame = MalformedFixtures.tcpWithOptions([.raw(kind: 30, bytes: [1, 2, 3, 4, 5]), .mss(1400)])
        let (reason, info) = parse(frame)
        #expect(reason == nil)
        #expect(info.tcpOptions.mssOffset == 14 + 20 + 20 + 7 + 2)
    }
}
