// Well-formed frames covering every header combination the parser handles, shared by the parser,
// truncation and mutation tests. Each fixture records what the parser must find.

import SluicePacket
import SluiceTestKit

struct Fixture: CustomStringConvertible, Sendable {
    var name: String
    var frame: [UInt8]
    var isV6: Bool
    var l3Offset: Int
    var l4Protocol: UInt8
    var sourcePort: UInt16 = 0
    var destinationPort: UInt16 = 0
    var ipHeaderLength: Int
    var payloadLength: Int

    var description: String { name }
}

func ip(_ text: String) -> IPAddress {
    guard let a = IPAddress(text) else { preconditionFailure("bad address \(text)") }
    return a
}

enum Fixtures {
    static let client4 = "192.0.2.10"
    static let vip4 = "198.51.100.1"
    static let client6 = "2001:db8::10"
    static let vip6 = "2001:db8:1::1"

    static let payload: [UInt8] = Array("GET / HTTP/1.1\r\n\r\n".utf8)

    static let tcpOptions: [TCPOptionSpec] = [
        .mss(1460), .sackPermitted, .timestamps(val: 0x0102_0304, ecr: 0), .nop, .windowScale(7),
    ]

    /// SACK blocks placed so that they start at an odd offset from the TCP header.
    static let sackOptions: [TCPOptionSpec] = [
        .nop, .timestamps(val: 7, ecr: 9), .sack([(1000, 2000), (3000, 4000), (0xFFFF_FF00, 0x0000_0100)]),
    ]

    static var all: [Fixture] {
        var out: [Fixture] = []
        let v4 = PacketBuilder().ipv4(src: client4, dst: vip4)
        let v6 = PacketBuilder().ipv6(src: client6, dst: vip6)
        out.append(
            Fixture(
                name: "IPv4 TCP SYN", frame: v4.tcp(sport: 40000, dport: 80, flags: TCPFlag.syn).build(),
                isV6: false, l3Offset: 14, l4Protocol: 6, sourcePort: 40000, destinationPort: 80, ipHeaderLength: 20,
                payloadLength: 0))
        out.append(
            Fixture(
                name: "IPv4 TCP options + payload",
                frame: v4.tcp(sport: 40001, dport: 443, options: tcpOptions, payload: payload).build(),
                isV6: false, l3Offset: 14, l4Protocol: 6, sourcePort: 40001, destinationPort: 443, ipHeaderLength: 20,
                payloadLength: payload.count))
        out.append(
            Fixture(
                name: "VLAN IPv4 with options TCP",
                frame: PacketBuilder().ethernet(vlan: 42)
                    .ipv4(src: client4, dst: vip4, options: [0x94, 0x04, 0x00, 0x00, 0x01])
                    .tcp(sport: 1, dport: 2, options: sackOptions, payload: payload).build(),
                isV6: false, l3Offset: 18, l4Protocol: 6, sourcePort: 1, destinationPort: 2, ipHeaderLength: 28,
                payloadLength: payload.count))
        out.append(
            Fixture(
                name: "802.1ad IPv4 UDP",
                frame: PacketBuilder().ethernet(vlan: 7, tagType: 0x88A8).ipv4(src: client4, dst: vip4)
                    .udp(sport: 5353, dport: 53, payload: [1, 2, 3]).build(),
                isV6: false, l3Offset: 18, l4Protocol: 17, sourcePort: 5353, destinationPort: 53, ipHeaderLength: 20,
                payloadLength: 3))
        out.append(
            Fixture(
                name: "IPv4 UDP zero checksum, padded",
                frame: v4.udp(sport: 9, dport: 10, payload: [0xAA], zeroChecksum: true).padding(17).build(),
                isV6: false, l3Offset: 14, l4Protocol: 17, sourcePort: 9, destinationPort: 10, ipHeaderLength: 20,
                payloadLength: 1))
        out.append(
            Fixture(
                name: "IPv4 ICMP echo", frame: v4.icmp(type: 8, rest: 0x1234_0001, payload: [1, 2, 3, 4]).build(),
                isV6: false, l3Offset: 14, l4Protocol: 1, ipHeaderLength: 20, payloadLength: 4))
        out.append(
            Fixture(
                name: "IPv4 ICMP frag needed quoting TCP", frame: icmpv4Error(inner: innerTCP4()), isV6: false,
                l3Offset: 14, l4Protocol: 1, ipHeaderLength: 20, payloadLength: innerTCP4().count))
        out.append(
            Fixture(
                name: "IPv4 ICMP port unreachable quoting UDP",
                frame: PacketBuilder().ipv4(src: "203.0.113.9", dst: vip4).icmp(type: 3, code: 3, payload: innerUDP4())
                    .build(),
                isV6: false, l3Offset: 14, l4Protocol: 1, ipHeaderLength: 20, payloadLength: innerUDP4().count))
        out.append(
            Fixture(
                name: "IPv6 TCP", frame: v6.tcp(sport: 50000, dport: 80, options: tcpOptions).build(), isV6: true,
                l3Offset: 14, l4Protocol: 6, sourcePort: 50000, destinationPort: 80, ipHeaderLength: 40,
                payloadLength: 0))
        out.append(
            Fixture(
                name: "IPv6 hop-by-hop + destination options + atomic fragment UDP",
                frame: PacketBuilder()
                    .ipv6(
                        src: client6, dst: vip6,
                        extensionHeaders: [
                            .hopByHop(options: [5, 2, 0, 0]), .destinationOptions(options: []),
                            .routing(segmentsLeft: 0), .fragment(offset: 0, more: false),
                        ]
                    )
                    .udp(sport: 1000, dport: 53, payload: payload).build(),
                isV6: true, l3Offset: 14, l4Protocol: 17, sourcePort: 1000, destinationPort: 53,
                ipHeaderLength: 40 + 8 + 8 + 8 + 8, payloadLength: payload.count))
        out.append(
            Fixture(
                name: "VLAN IPv6 destination options TCP",
                frame: PacketBuilder().ethernet(vlan: 4094)
                    .ipv6(
                        src: client6, dst: vip6, extensionHeaders: [.destinationOptions(options: [0x1E, 3, 1, 2, 3])]
                    )
                    .tcp(sport: 7, dport: 8, options: sackOptions, payload: payload).build(),
                isV6: true, l3Offset: 18, l4Protocol: 6, sourcePort: 7, destinationPort: 8, ipHeaderLength: 48,
                payloadLength: payload.count))
        out.append(
            Fixture(
                name: "IPv6 ICMPv6 packet too big quoting TCP", frame: icmpv6Error(inner: innerTCP6()), isV6: true,
                l3Offset: 14, l4Protocol: 58, ipHeaderLength: 40, payloadLength: innerTCP6().count))
        out.append(
            Fixture(
                name: "IPv6 ICMPv6 echo request", frame: v6.icmpv6(type: 128, rest: 0x0001_0002, payload: [9]).build(),
                isV6: true, l3Offset: 14, l4Protocol: 58, ipHeaderLength: 40, payloadLength: 1))
        return out
    }

    /// A server's reply (VIP → client) as quoted in an ICMP error from a router on the way back.
    static func innerTCP4() -> [UInt8] {
        PacketBuilder().ipv4(src: vip4, dst: client4).tcp(
            sport: 80, dport: 40000, seq: 0xDEAD_BEEF, ack: 1, payload: [UInt8](repeating: 0x55, count: 100)
        ).buildIP()
    }

    static func innerUDP4() -> [UInt8] {
        PacketBuilder().ipv4(src: vip4, dst: client4).udp(sport: 53, dport: 5353, payload: [1, 2, 3, 4]).buildIP()
    }

    static func innerTCP6() -> [UInt8] {
        PacketBuilder().ipv6(src: vip6, dst: client6).tcp(
            sport: 443, dport: 50000, seq: 77, payload: [UInt8](repeating: 0x66, count: 64)
        ).buildIP()
    }

    static func icmpv4Error(inner: [UInt8], type: UInt8 = 3, code: UInt8 = 4) -> [UInt8] {
        PacketBuilder().ipv4(src: "203.0.113.1", dst: vip4).icmp(type: type, code: code, rest: 1400, payload: inner)
            .build()
    }

    static func icmpv6Error(inner: [UInt8], type: UInt8 = 2) -> [UInt8] {
        PacketBuilder().ipv6(src: "2001:db8:ffff::1", dst: vip6).icmpv6(type: type, rest: 1280, payload: inner).build()
    }
}
