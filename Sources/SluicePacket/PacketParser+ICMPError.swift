// ICMP errors that concern a connection (docs/protocol.md §3 "ICMP errors"): ICMPv4 destination
// unreachable (incl. fragmentation needed), source quench and time exceeded; ICMPv6 destination
// unreachable, packet too big and time exceeded. Anything else (echo, redirects, parameter problem,
// ND) is `.icmpNotRelated`.
//
// This is not the hot path, and the data plane recomputes the ICMP checksum after translating the
// quoted packet, so the received ICMP checksum is verified here first (`.badL4Checksum`): a full
// recomputation must never launder a corrupted message (docs/design.md §4.6). The quoted packet itself is
// usually cut short, so only its headers are checked, against the quoted bytes: IP header, extension
// headers, and 8 bytes of TCP/UDP (RFC 792 guarantees them). A quoted non-first fragment has no ports
// (`.fragment`); a quoted protocol other than TCP/UDP belongs to no connection (`.icmpNotRelated`).

extension PacketParser {
    /// Parses the packet quoted in the ICMP error described by `info` (a successful `parse` result).
    /// - Returns: nil when `inner` describes a quoted TCP or UDP packet; otherwise the drop reason.
    @inlinable
    public static func parseICMPError(
        _ frame: Span<UInt8>, info: PacketInfo, into inner: inout EmbeddedPacket
    ) -> DropReason? {
        inner = EmbeddedPacket()
        let t = info.icmpType
        if info.isV6 {
            guard info.l4Protocol == 58, t == 1 || t == 2 || t == 3 else { return .icmpNotRelated }
        } else {
            guard info.l4Protocol == 1, t == 3 || t == 4 || t == 11 else { return .icmpNotRelated }
        }
        let l4 = info.l4Offset
        let end = info.ipEnd
        guard l4 >= 0, end <= frame.count, end - l4 >= 8 else { return .badICMP }
        var acc = InternetChecksum.sum(frame, from: l4, count: end - l4)
        if info.isV6 {
            acc &+= InternetChecksum.pseudoHeader(
                source: info.source, destination: info.destination, protocol: 58, length: end - l4)
        }
        guard InternetChecksum.fold(acc) == 0xFFFF else { return .badL4Checksum }

        let l3 = l4 + 8
        inner.l3Offset = l3
        inner.end = end
        inner.isV6 = info.isV6
        var protocolNumber: UInt8
        var innerL4: Int
        if info.isV6 {
            guard end - l3 >= 40, frame[l3] &>> 4 == 6 else { return .badICMP }
            inner.source = frame.ipv6Address(l3 + 8)
            inner.destination = frame.ipv6Address(l3 + 24)
            protocolNumber = frame[l3 + 6]
            innerL4 = l3 + 40
            if let reason = walkExtensionHeaders(
                frame, next: &protocolNumber, offset: &innerL4, end: end, quoted: true)
            {
                return reason
            }
        } else {
            guard end - l3 >= 20, frame[l3] &>> 4 == 4 else { return .badICMP }
            let headerLength = Int(frame[l3] & 0x0F) &* 4
            guard headerLength >= 20, end - l3 >= headerLength else { return .badICMP }
            guard frame.u16(l3 + 6) & 0x1FFF == 0 else { return .fragment }
            inner.source = frame.ipv4Address(l3 + 12)
            inner.destination = frame.ipv4Address(l3 + 16)
            protocolNumber = frame[l3 + 9]
            innerL4 = l3 + headerLength
        }
        inner.ipHeaderLength = innerL4 - l3
        inner.l4Protocol = protocolNumber
        inner.l4Offset = innerL4
        guard protocolNumber == 6 || protocolNumber == 17 else { return .icmpNotRelated }
        guard end - innerL4 >= 8 else { return .badICMP }
        inner.sourcePort = frame.u16(innerL4)
        inner.destinationPort = frame.u16(innerL4 + 2)
        inner.hasTCPSequence = protocolNumber == 6
        return nil
    }
}
