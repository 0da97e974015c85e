// The per-packet parser: Ethernet (one optional 802.1Q/802.1ad tag), IPv4 or IPv6 (extension headers
// walked), then TCP, UDP, ICMP or ICMPv6. It validates every length against the frame before reading,
// so any input either yields a PacketInfo whose offsets all lie inside the datagram or a DropReason;
// it never traps and never allocates.
//
// What is checked, and why:
// - IPv4: version, IHL ≥ 5, total length within the frame, header checksum (a router must; RFC 1812
//   §5.2.2). DF is fine.
// - IPv6: version, payload length within the frame; hop-by-hop (first only), routing (only with
//   segments left = 0: Sluice rewrites the destination, so a packet still being source-routed cannot
//   be translated), destination options and atomic fragments (offset 0, M = 0; RFC 6946 says process
//   them as whole packets) are walked, at most 8 headers.
// - Fragments (IPv4 MF or a non-zero offset; an IPv6 fragment header that is not atomic) are reported
//   in `PacketInfo.fragment`, with the identification, offset and MF flag (docs/protocol.md §3
//   "Fragments"). Only TCP and UDP fragments are parsed (`.fragment` otherwise); in IPv6 the fragment
//   header must be followed directly by the transport header, since a later fragment cannot show what
//   the headers after it were. The first fragment parses like a whole packet but must hold the whole
//   transport header (`.tinyFragment`, RFC 1858 §3); its UDP length covers the whole datagram, so only
//   its lower bound is checked. A later fragment has no transport header: its payload starts at
//   `l4Offset`, the ports are 0, and an offset inside the transport header is refused
//   (`.fragmentOverlap`, RFC 1858 §4).
// - TCP: data offset ≥ 5 and within the datagram, options well formed (TCPOptions.scan).
// - UDP: 8 ≤ length ≤ datagram (a shorter length is allowed, RFC 768; the payload ends there). IPv6
//   UDP with a zero checksum is dropped (RFC 8200 §8.1: receivers discard it).
// - ICMP/ICMPv6: at least the 8-byte header. ICMP in IPv6 and ICMPv6 in IPv4 are unsupported.
// TCP/UDP checksums are NOT verified here: this is the hot path, and rewrites update checksums
// incrementally, which keeps a corrupted segment detectably corrupted for the receiver.
// Any other protocol returns `.unsupportedProtocol` with the addresses and offsets filled in.

/// Parses frames into `PacketInfo` / `EmbeddedPacket` values.
public enum PacketParser {
    /// The most IPv6 extension headers walked before giving up (`.badExtensionHeader`).
    public static let maximumExtensionHeaders = 8

    /// Parses the frame's first `length` bytes (clamped to `frame.count`).
    /// - Returns: nil when the frame is a well-formed TCP, UDP, ICMP or ICMPv6 packet; otherwise why it
    ///   must be dropped. On `.unsupportedProtocol` the L3 fields of `info` are filled.
    @inlinable
    public static func parse(_ frame: Span<UInt8>, length: Int, into info: inout PacketInfo) -> DropReason? {
        info = PacketInfo()
        let n = min(length, frame.count)
        guard n >= EthernetHeader.length else { return .truncated }
        var l3 = EthernetHeader.length
        var etherType = frame.u16(12)
        if etherType == EthernetHeader.etherTypeVLAN || etherType == EthernetHeader.etherTypeQinQ {
            guard n >= 18 else { return .truncated }
            info.vlanID = frame.u16(14) & 0x0FFF
            etherType = frame.u16(16)
            l3 = 18
        }
        info.l3Offset = l3
        let reason: DropReason?
        switch etherType {
        case EthernetHeader.etherTypeIPv4:
            reason = parseIPv4(frame, end: n, into: &info)
        case EthernetHeader.etherTypeIPv6:
            reason = parseIPv6(frame, end: n, into: &info)
        default:
            return .unsupportedEthertype
        }
        if let reason { return reason }
        return parseTransport(frame, into: &info)
    }

    // parseIPv4 and parseTransport are inlined into `parse`, where the optimizer knows that `end` is
    // within the frame and the header offset is 14 or 18: most range checks of their field reads fold
    // away there.
    @inlinable @inline(__always)
    static func parseIPv4(_ f: Span<UInt8>, end n: Int, into info: inout PacketInfo) -> DropReason? {
        let l3 = info.l3Offset
        guard n - l3 >= 20 else { return .truncated }
        let versionIHL = f[l3]
        guard versionIHL &>> 4 == 4 else { return .badIPv4Header }
        let headerLength = Int(versionIHL & 0x0F) &* 4
        guard headerLength >= 20 else { return .badIPv4Header }
        guard n - l3 >= headerLength else { return .truncated }
        let total = Int(f.u16(l3 + 2))
        guard total >= headerLength, total <= n - l3 else { return .badIPv4Header }
        // A header without options (almost every one) is summed in line: five words the length check
        // above already covered.
        let headerSum =
            headerLength == 20
            ? UInt64(f.u32(l3)) &+ UInt64(f.u32(l3 &+ 4)) &+ UInt64(f.u32(l3 &+ 8)) &+ UInt64(f.u32(l3 &+ 12))
                &+ UInt64(f.u32(l3 &+ 16))
            : InternetChecksum.sum(f, from: l3, count: headerLength)
        guard InternetChecksum.fold(headerSum) == 0xFFFF else {
            return .badIPv4Checksum
        }
        let flags = f.u16(l3 + 6)
        // MF (0x2000) or a fragment offset (13 bits, in 8-byte units) make a fragment.
        if flags & 0x3FFF != 0 {
            let offset = flags & 0x1FFF
            info.fragment = offset == 0 ? .first : .later
            info.fragmentOffset = Int(offset) &* 8
            info.moreFragments = flags & 0x2000 != 0
            info.fragmentIdentification = UInt32(f.u16(l3 + 4))
        }
        info.isV6 = false
        info.dontFragment = flags & 0x4000 != 0
        info.hopLimitOffset = l3 + 8
        info.l4Protocol = f[l3 + 9]
        info.source = f.ipv4Address(l3 + 12)
        info.destination = f.ipv4Address(l3 + 16)
        info.ipHeaderLength = headerLength
        info.ipEnd = l3 + total
        info.l4Offset = l3 + headerLength
        return nil
    }

    @inlinable @inline(never)
    static func parseIPv6(_ f: Span<UInt8>, end n: Int, into info: inout PacketInfo) -> DropReason? {
        let l3 = info.l3Offset
        guard n - l3 >= 40 else { return .truncated }
        guard f[l3] &>> 4 == 6 else { return .badIPv6Header }
        let payloadLength = Int(f.u16(l3 + 4))
        guard payloadLength <= n - l3 - 40 else { return .badIPv6Header }
        info.isV6 = true
        info.dontFragment = true
        info.hopLimitOffset = l3 + 7
        info.source = f.ipv6Address(l3 + 8)
        info.destination = f.ipv6Address(l3 + 24)
        let end = l3 + 40 + payloadLength
        info.ipEnd = end
        var next = f[l3 + 6]
        var offset = l3 + 40
        if let reason = walkExtensionHeaders(f, next: &next, offset: &offset, end: end, quoted: false) {
            return reason
        }
        if next == 44 {
            // The walk stops at a real fragment header (it checked its 8 bytes): the transport header must
            // follow it directly, since a later fragment's bytes after it are payload, not headers.
            let field = f.u16(offset + 2)
            info.fragment = field &>> 3 == 0 ? .first : .later
            info.fragmentOffset = Int(field &>> 3) &* 8
            info.moreFragments = field & 1 != 0
            info.fragmentIdentification = f.u32(offset + 4)
            info.fragmentHeaderOffset = offset
            next = f[offset]
            offset &+= 8
            guard next == 6 || next == 17 else { return .fragment }
        }
        info.l4Protocol = next
        info.l4Offset = offset
        info.ipHeaderLength = offset - l3
        return nil
    }

    /// Walks IPv6 extension headers from `offset` (the byte after the fixed header) until a header
    /// that is not hop-by-hop, routing, destination options or an atomic fragment header. On return
    /// `next` is the upper-layer protocol and `offset` its header's offset, except that outside an ICMPv6
    /// error the walk stops at a real fragment header (`next` 44, `offset` at it, its 8 bytes present)
    /// for the caller to read.
    /// - Parameter quoted: true inside an ICMPv6 error: first fragments are walked (they carry the
    ///   ports), later ones are `.fragment`, routing headers are not checked, and failures are reported
    ///   as `.badICMP`.
    @inlinable
    static func walkExtensionHeaders(
        _ f: Span<UInt8>, next: inout UInt8, offset: inout Int, end: Int, quoted: Bool
    ) -> DropReason? {
        let malformed: DropReason = quoted ? .badICMP : .badExtensionHeader
        let first = offset
        var walked = 0
        while true {
            switch next {
            case 0, 43, 60:
                // Hop-by-hop may only follow the fixed header (RFC 8200 §4.3).
                if next == 0 && offset != first { return malformed }
                guard end - offset >= 8 else { return malformed }
                let headerLength = (Int(f[offset + 1]) &+ 1) &* 8
                guard end - offset >= headerLength else { return malformed }
                if next == 43 && !quoted && f[offset + 3] != 0 { return .badExtensionHeader }
                next = f[offset]
                offset &+= headerLength
            case 44:
                guard end - offset >= 8 else { return malformed }
                let field = f.u16(offset + 2)
                let fragmentOffset = field &>> 3
                let more = field & 1 != 0
                if quoted {
                    guard fragmentOffset == 0 else { return .fragment }
                } else if fragmentOffset != 0 || more {
                    return nil
                }
                next = f[offset]
                offset &+= 8
            default:
                return nil
            }
            walked &+= 1
            guard walked <= maximumExtensionHeaders else { return malformed }
        }
    }

    /// The smallest transport header of TCP (20 bytes) and UDP (8): a first fragment must hold it, a
    /// later fragment must start beyond it.
    @usableFromInline static let minimumTCPHeader = 20
    @usableFromInline static let udpHeader = 8

    @inlinable @inline(__always)
    static func parseTransport(_ f: Span<UInt8>, into info: inout PacketInfo) -> DropReason? {
        let l4 = info.l4Offset
        let end = info.ipEnd
        if info.fragment != .whole {
            let isTCP = info.l4Protocol == 6
            guard isTCP || info.l4Protocol == 17 else { return .fragment }
            if info.fragment == .later {
                guard info.fragmentOffset >= (isTCP ? minimumTCPHeader : udpHeader) else { return .fragmentOverlap }
                info.payloadOffset = l4
                info.payloadLength = end - l4
                return nil
            }
            // A first fragment must hold the transport header, options included (RFC 1858 §3).
            guard end - l4 >= (isTCP ? minimumTCPHeader : udpHeader) else { return .tinyFragment }
            if isTCP && Int(f[l4 + 12] &>> 4) &* 4 > end - l4 { return .tinyFragment }
        }
        switch info.l4Protocol {
        case 6:
            guard end - l4 >= 20 else { return .badTCPHeader }
            let headerLength = Int(f[l4 + 12] &>> 4) &* 4
            guard headerLength >= 20, headerLength <= end - l4 else { return .badTCPHeader }
            if headerLength > 20 {
                guard TCPOptions.scan(f, tcpOffset: l4, headerLength: headerLength, into: &info.tcpOptions) else {
                    return .badTCPOptions
                }
            }
            info.sourcePort = f.u16(l4)
            info.destinationPort = f.u16(l4 + 2)
            info.tcpFlags = f[l4 + 13]
            info.tcpHeaderLength = headerLength
            info.payloadOffset = l4 + headerLength
            info.payloadLength = end - info.payloadOffset
        case 17:
            guard end - l4 >= 8 else { return .badUDPHeader }
            var udpLength = Int(f.u16(l4 + 4))
            guard udpLength >= 8 else { return .badUDPHeader }
            // A first fragment's UDP length covers the whole datagram: its payload here ends with the fragment.
            if info.fragment == .first { udpLength = min(udpLength, end - l4) }
            guard udpLength <= end - l4 else { return .badUDPHeader }
            if info.isV6 && f.u16(l4 + 6) == 0 { return .badUDPHeader }
            info.sourcePort = f.u16(l4)
            info.destinationPort = f.u16(l4 + 2)
            info.payloadOffset = l4 + 8
            info.payloadLength = udpLength - 8
        case 1 where !info.isV6, 58 where info.isV6:
            guard end - l4 >= 8 else { return .badICMP }
            info.icmpType = f[l4]
            info.icmpCode = f[l4 + 1]
            info.payloadOffset = l4 + 8
            info.payloadLength = end - info.payloadOffset
        default:
            return .unsupportedProtocol
        }
        return nil
    }
}
