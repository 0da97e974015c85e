// The per-packet parser: Ethernet (one optional 802.1Q/802.1ad tag), IPv4 or IPv6 (extension headers
// walked), then TCP, UDP, ICMP or ICMPv6. It validates every length against the frame before reading,
// so any input either yields a PacketInfo whose offsets all lie inside the datagram or a DropReason;
// it never traps and never allocates.
//
// What is checked, and why:
// - IPv4: version, IHL ≥ 5, total length within the frame, header checksum (a router must; RFC 1812
//   §5.2.2). Fragments (MF or a non-zero offset) are dropped: only the first carries ports, so they
//   cannot be matched to a connection or steered to its owner (docs/protocol.md §3 "Fragments"). DF is fine.
// - IPv6: version, payload length within the frame; hop-by-hop (first only), routing (only with
//   segments left = 0: Sluice rewrites the destination, so a packet still being source-routed cannot
//   be translated), destination options and atomic fragments (offset 0, M = 0; RFC 6946 says process
//   them as whole packets) are walked, at most 8 headers. Any real fragment is dropped.
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

    @inlinable
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
        guard InternetChecksum.fold(InternetChecksum.sum(f, from: l3, count: headerLength)) == 0xFFFF else {
            return .badIPv4Checksum
        }
        let fragment = f.u16(l3 + 6)
        // MF (0x2000) or a fragment offset: drop. DF (0x4000) is allowed.
        guard fragment & 0x3FFF == 0 else { return .fragment }
        info.isV6 = false
        info.dontFragment = fragment & 0x4000 != 0
        info.hopLimitOffset = l3 + 8
        info.l4Protocol = f[l3 + 9]
        info.source = f.ipv4Address(l3 + 12)
        info.destination = f.ipv4Address(l3 + 16)
        info.ipHeaderLength = headerLength
        info.ipEnd = l3 + total
        info.l4Offset = l3 + headerLength
        return nil
    }

    @inlinable
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
        info.l4Protocol = next
        info.l4Offset = offset
        info.ipHeaderLength = offset - l3
        return nil
    }

    /// Walks IPv6 extension headers from `offset` (the byte after the fixed header) until a header
    /// that is not hop-by-hop, routing, destination options or fragment. On return `next` is the
    /// upper-layer protocol and `offset` its header's offset.
    /// - Parameter quoted: true inside an ICMPv6 error: first fragments are allowed (they carry the
    ///   ports), routing headers are not checked, and failures are reported as `.badICMP`.
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
                } else {
                    guard fragmentOffset == 0 && !more else { return .fragment }
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

    @inlinable
    static func parseTransport(_ f: Span<UInt8>, into info: inout PacketInfo) -> DropReason? {
        let l4 = info.l4Offset
        let end = info.ipEnd
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
            let udpLength = Int(f.u16(l4 + 4))
            guard udpLength >= 8, udpLength <= end - l4 else { return .badUDPHeader }
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
