// Full, from-scratch checksum verification of a frame, the way tshark validates one: the IPv4 header
// checksum, the TCP/UDP/ICMP/ICMPv6 checksum over the whole transport datagram (with the pseudo-header
// where the protocol has one), and, inside ICMPv4 errors, the quoted IPv4 header's checksum.
//
// Data-plane tests rewrite frames with incremental updates (RFC 1624) and then assert
// `checksumsValid`: incremental == full. The walk here is deliberately separate from
// SluicePacket.PacketParser and its arithmetic from InternetChecksum (it uses PacketBuilder's
// independent sum), so a bug in the parser or the checksum code cannot hide itself.

import SluicePacket

/// Recomputes every checksum in a frame and compares.
public enum FrameChecker {
    /// True when every checksum the frame carries verifies.
    public static func checksumsValid(_ frame: [UInt8]) -> Bool { problem(frame) == nil }

    /// A description of the first checksum or structure problem, or nil if the frame verifies.
    /// Fragments are checked at L3 only (their L4 checksum covers bytes not in the frame).
    public static func problem(_ frame: [UInt8]) -> String? {
        guard frame.count >= 14 else { return "frame shorter than an Ethernet header" }
        var l3 = 14
        var etherType = be16(frame, 12)
        while etherType == 0x8100 || etherType == 0x88A8 {
            guard frame.count >= l3 + 4 else { return "truncated VLAN tag" }
            etherType = be16(frame, l3 + 2)
            l3 += 4
        }
        switch etherType {
        case 0x0800: return checkIPv4(frame, l3)
        case 0x86DD: return checkIPv6(frame, l3)
        default: return "ethertype \(String(etherType, radix: 16)) is not IP"
        }
    }

    static func checkIPv4(_ f: [UInt8], _ l3: Int) -> String? {
        guard f.count >= l3 + 20, f[l3] >> 4 == 4 else { return "bad IPv4 header" }
        let headerLength = Int(f[l3] & 0x0F) * 4
        let total = Int(be16(f, l3 + 2))
        guard headerLength >= 20, total >= headerLength, l3 + total <= f.count else {
            return "IPv4 lengths inconsistent (IHL \(headerLength), total \(total), frame \(f.count))"
        }
        guard sum(f, l3, headerLength) == 0xFFFF else { return "IPv4 header checksum wrong" }
        if be16(f, l3 + 6) & 0x3FFF != 0 { return nil }
        let src = IPAddress(v4: be32(f, l3 + 12))
        let dst = IPAddress(v4: be32(f, l3 + 16))
        return checkTransport(f, protocolNumber: f[l3 + 9], l4: l3 + headerLength, end: l3 + total, src: src, dst: dst)
    }

    static func checkIPv6(_ f: [UInt8], _ l3: Int) -> String? {
        guard f.count >= l3 + 40, f[l3] >> 4 == 6 else { return "bad IPv6 header" }
        let end = l3 + 40 + Int(be16(f, l3 + 4))
        guard end <= f.count else { return "IPv6 payload length beyond the frame" }
        let src = IPAddress(v6High: be64(f, l3 + 8), low: be64(f, l3 + 16))
        let dst = IPAddress(v6High: be64(f, l3 + 24), low: be64(f, l3 + 32))
        var next = f[l3 + 6]
        var o = l3 + 40
        while [0, 43, 60, 44].contains(next) {
            guard o + 8 <= end else { return "IPv6 extension header beyond the payload" }
            if next == 44 {
                // A real fragment: its L4 checksum covers bytes in other frames.
                if be16(f, o + 2) >> 3 != 0 || be16(f, o + 2) & 1 != 0 { return nil }
                next = f[o]
                o += 8
            } else {
                let length = (Int(f[o + 1]) + 1) * 8
                next = f[o]
                o += length
            }
        }
        guard o <= end else { return "IPv6 extension header beyond the payload" }
        return checkTransport(f, protocolNumber: next, l4: o, end: end, src: src, dst: dst)
    }

    static func checkTransport(
        _ f: [UInt8], protocolNumber: UInt8, l4: Int, end: Int, src: IPAddress, dst: IPAddress
    ) -> String? {
        let v6 = src.isV6
        switch protocolNumber {
        case 6:
            guard end - l4 >= 20 else { return "TCP header truncated" }
            let pseudo = PacketBuilder.pseudoHeaderSum(
                source: src, destination: dst, protocolNumber: 6, length: end - l4)
            guard PacketBuilder.fold(pseudo + raw(f, l4, end - l4)) == 0xFFFF else { return "TCP checksum wrong" }
        case 17:
            guard end - l4 >= 8 else { return "UDP header truncated" }
            let length = Int(be16(f, l4 + 4))
            guard length >= 8, l4 + length <= end else { return "UDP length \(length) inconsistent" }
            if be16(f, l4 + 6) == 0 { return v6 ? "IPv6 UDP checksum is zero" : nil }
            let pseudo = PacketBuilder.pseudoHeaderSum(
                source: src, destination: dst, protocolNumber: 17, length: length)
            guard PacketBuilder.fold(pseudo + raw(f, l4, length)) == 0xFFFF else { return "UDP checksum wrong" }
        case 1 where !v6:
            guard end - l4 >= 8 else { return "ICMP header truncated" }
            guard sum(f, l4, end - l4) == 0xFFFF else { return "ICMP checksum wrong" }
            if [3, 4, 5, 11, 12].contains(f[l4]) && end - l4 >= 28 && f[l4 + 8] >> 4 == 4 {
                let innerLength = Int(f[l4 + 8] & 0x0F) * 4
                if innerLength >= 20 && l4 + 8 + innerLength <= end && sum(f, l4 + 8, innerLength) != 0xFFFF {
                    return "quoted IPv4 header checksum wrong"
                }
            }
        case 58 where v6:
            guard end - l4 >= 8 else { return "ICMPv6 header truncated" }
            let pseudo = PacketBuilder.pseudoHeaderSum(
                source: src, destination: dst, protocolNumber: 58, length: end - l4)
            guard PacketBuilder.fold(pseudo + raw(f, l4, end - l4)) == 0xFFFF else { return "ICMPv6 checksum wrong" }
        default:
            break
        }
        return nil
    }

    static func raw(_ f: [UInt8], _ from: Int, _ count: Int) -> UInt64 {
        PacketBuilder.onesComplementSum(Array(f[from..<(from + count)]))
    }

    static func sum(_ f: [UInt8], _ from: Int, _ count: Int) -> UInt16 { PacketBuilder.fold(raw(f, from, count)) }

    static func be16(_ f: [UInt8], _ o: Int) -> UInt16 { UInt16(f[o]) << 8 | UInt16(f[o + 1]) }

    static func be32(_ f: [UInt8], _ o: Int) -> UInt32 { UInt32(be16(f, o)) << 16 | UInt32(be16(f, o + 2)) }

    static func be64(_ f: [UInt8], _ o: Int) -> UInt64 { UInt64(be32(f, o)) << 32 | UInt64(be32(f, o + 4)) }
}
