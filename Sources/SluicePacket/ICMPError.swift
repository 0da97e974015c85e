// Turning a received frame into the ICMP error about it, in place (no second buffer, no allocation).
//
// The original datagram is shifted forward by the new IP + ICMP headers (28 bytes for IPv4, 48 for
// IPv6) with a memmove and then becomes the quoted part, cut so that the error stays within 576 bytes
// (RFC 1812 §4.3.2.3) or 1280 bytes (RFC 4443 §2.4(c)), and within the buffer. At least the original
// IP header plus 8 bytes must fit (RFC 792). The Ethernet header (and VLAN tag) stays at the front for
// the caller to readdress.
//
// The rules of RFC 1122 §3.2.2 / RFC 4443 §2.4(e) against error storms are enforced here, so a caller
// cannot forget them: no error about an ICMP error, and none to an unspecified, loopback, multicast or
// broadcast source, nor about a packet sent to a multicast or broadcast destination (except IPv6 Packet
// Too Big, which RFC 4443 allows for multicast destinations). Non-first fragments never get this far:
// the data plane sends no error about them (SluiceCore/Dataplane+Fragments.swift).

/// Builds ICMP/ICMPv6 errors in place.
public enum ICMPError {
    /// Largest ICMPv4 error datagram (RFC 1812 §4.3.2.3).
    public static let maximumIPv4Length = 576
    /// Largest ICMPv6 error datagram: the IPv6 minimum MTU (RFC 4443 §2.4(c)).
    public static let maximumIPv6Length = 1280

    /// Rewrites the frame described by `info` into an ICMP (IPv4) or ICMPv6 (IPv6) error from
    /// `source` to the packet's original sender, quoting the original datagram.
    /// - Parameters:
    ///   - frame: the whole frame buffer; the error may be longer than the received frame if the
    ///     buffer allows (the quote is cut to what fits).
    ///   - length: the received frame length on input; the error frame's length on success.
    ///   - info: the parse result of the received frame.
    ///   - kind: which error.
    ///   - source: the error's source address; must be of the frame's family.
    /// - Returns: false, leaving the frame untouched, when no error may or can be sent (family
    ///   mismatch, error-about-error, multicast/broadcast/unspecified addresses, buffer too small, or an
    ///   `info` whose datagram does not lie inside `length` bytes of `frame`).
    @inlinable
    public static func build(
        _ frame: inout MutableSpan<UInt8>, length: inout Int, info: PacketInfo, kind: ICMPErrorKind,
        from source: IPAddress
    ) -> Bool {
        let l3 = info.l3Offset
        let v6 = info.isV6
        guard source.isV6 == v6, info.source.isV6 == v6, l3 >= 0 else { return false }
        // Bounded by the frame first, so that the differences below cannot overflow whatever `info` holds.
        guard l3 <= info.ipEnd, info.ipEnd <= length, length <= frame.count else { return false }
        guard info.ipHeaderLength >= (v6 ? 40 : 20), info.ipEnd - l3 >= info.ipHeaderLength else { return false }
        guard mayReply(info, isPacketTooBig: isPacketTooBig(kind, v6: v6)) else { return false }

        let headers = v6 ? 48 : 28
        let original = info.ipEnd - l3
        let room = frame.count - l3 - headers
        guard room >= min(original, info.ipHeaderLength + 8) else { return false }
        let quote = min(original, (v6 ? maximumIPv6Length : maximumIPv4Length) - headers, room)
        frame.moveBytes(from: l3, to: l3 + headers, count: quote)

        let icmp: Int
        if v6 {
            frame.set32(0x6000_0000, at: l3)
            frame.set16(UInt16(8 + quote), at: l3 + 4)
            frame.set8(58, at: l3 + 6)
            frame.set8(64, at: l3 + 7)
            frame.setAddress(source, at: l3 + 8)
            frame.setAddress(info.source, at: l3 + 24)
            icmp = l3 + 40
        } else {
            frame.set8(0x45, at: l3)
            // Precedence "internetwork control", as Linux sends its ICMP errors.
            frame.set8(0xC0, at: l3 + 1)
            frame.set16(UInt16(28 + quote), at: l3 + 2)
            frame.set16(0, at: l3 + 4)
            // DF with identification 0: an atomic datagram (RFC 6864 §4.1).
            frame.set16(0x4000, at: l3 + 6)
            frame.set8(64, at: l3 + 8)
            frame.set8(1, at: l3 + 9)
            frame.set16(0, at: l3 + 10)
            frame.setAddress(source, at: l3 + 12)
            frame.setAddress(info.source, at: l3 + 16)
            frame.set16(InternetChecksum.finish(InternetChecksum.sum(frame.span, from: l3, count: 20)), at: l3 + 10)
            icmp = l3 + 20
        }
        let (type, code, rest) = header(kind, v6: v6)
        frame.set8(type, at: icmp)
        frame.set8(code, at: icmp + 1)
        frame.set16(0, at: icmp + 2)
        frame.set32(rest, at: icmp + 4)
        let icmpLength = 8 + quote
        var acc = InternetChecksum.sum(frame.span, from: icmp, count: icmpLength)
        if v6 {
            acc &+= InternetChecksum.pseudoHeader(
                source: source, destination: info.source, protocol: 58, length: icmpLength)
        }
        frame.set16(InternetChecksum.finish(acc), at: icmp + 2)
        length = icmp + icmpLength
        return true
    }

    @inlinable
    static func isPacketTooBig(_ kind: ICMPErrorKind, v6: Bool) -> Bool {
        switch kind {
        case .fragmentationNeeded, .packetTooBig: return v6
        case .timeExceeded, .destinationUnreachable: return false
        }
    }

    /// Type, code and the 32-bit "rest of header" word for `kind` in the given family.
    @inlinable
    static func header(_ kind: ICMPErrorKind, v6: Bool) -> (UInt8, UInt8, UInt32) {
        switch kind {
        case .timeExceeded:
            return v6 ? (3, 0, 0) : (11, 0, 0)
        case .fragmentationNeeded(let mtu):
            return v6 ? (2, 0, UInt32(mtu)) : (3, 4, UInt32(mtu))
        case .packetTooBig(let mtu):
            return v6 ? (2, 0, mtu) : (3, 4, UInt32(min(mtu, 0xFFFF)))
        case .destinationUnreachable(let code):
            return v6 ? (1, code, 0) : (3, code, 0)
        }
    }

    /// RFC 1122 §3.2.2 / RFC 4443 §2.4(e): whether an error may be sent about this packet.
    @inlinable
    static func mayReply(_ info: PacketInfo, isPacketTooBig: Bool) -> Bool {
        if info.isV6 {
            // ICMPv6 errors are types 0–127.
            if info.l4Protocol == 58 && info.icmpType < 128 { return false }
            let s = info.source
            if s.high == 0 && (s.low == 0 || s.low == 1) { return false }
            if s.high &>> 56 == 0xFF { return false }
            if info.destination.high &>> 56 == 0xFF && !isPacketTooBig { return false }
            return true
        }
        if info.l4Protocol == 1 {
            switch info.icmpType {
            case 3, 4, 5, 11, 12: return false
            default: break
            }
        }
        let s = info.source.v4
        let firstOctet = s &>> 24
        // 0/8 "this network", 127/8 loopback, 224/4 multicast, 240/4 reserved and broadcast.
        if firstOctet == 0 || firstOctet == 127 || firstOctet >= 224 { return false }
        let d = info.destination.v4
        if d &>> 28 == 0xE || d == 0xFFFF_FFFF { return false }
        return true
    }
}
