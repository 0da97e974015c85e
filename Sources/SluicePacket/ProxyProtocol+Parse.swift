// Full validation and decoding of a PROXY protocol header (haproxy doc/proxy-protocol.txt §2.1–2.2.8).
//
// Strict, because the only headers Sluice reads come from clients: anything that does not exactly
// match the specification is `.invalid` ("Any sequence which does not exactly match the protocol must
// be discarded", §2.1). v1: "TCP4"/"TCP6" with exactly four single-space-separated fields in the
// announced family, or "UNKNOWN" followed by anything. v2: command LOCAL or PROXY, a defined family
// and transport, an address block that fits in the length, TLVs that exactly fill the rest, a
// UNIQUE_ID of at most 128 bytes, and at most one CRC32C TLV of 4 bytes that must verify over the
// header with its value counted as zeros. Other TLVs are skipped. No allocation.

extension ProxyProtocol {
    /// Detects and, for a complete header, validates and decodes `bytes[from ..< from + count]`.
    /// - Returns: `.v1`/`.v2` with `header` filled when the header is valid; `.invalid` when it is
    ///   complete but breaks the specification; otherwise what `detect` returned (`header` is then
    ///   empty).
    public static func parse(
        _ bytes: Span<UInt8>, from: Int, count: Int, into header: inout ProxyProtocolHeader
    ) -> ProxyProtocolDetection {
        header = ProxyProtocolHeader()
        let detection = detect(bytes, from: from, count: count)
        switch detection {
        case .v1(let length):
            return parseV1(bytes, from: from, length: length, into: &header) ? detection : .invalid
        case .v2(let length):
            return parseV2(bytes, from: from, length: length, into: &header) ? detection : .invalid
        case .none, .incomplete, .invalid:
            return detection
        }
    }

    static func parseV1(_ s: Span<UInt8>, from: Int, length: Int, into h: inout ProxyProtocolHeader) -> Bool {
        var parsed = ProxyProtocolHeader()
        parsed.version = 1
        parsed.length = length
        let end = from + length - 2
        var i = from + 6
        // "UNKNOWN", then optionally a space and anything up to the CRLF.
        if end - i >= 7 && s.u32(i) == 0x554E_4B4E && s.u16(i + 4) == 0x4F57 && s[i + 6] == UInt8(ascii: "N") {
            guard end - i == 7 || s[i + 7] == UInt8(ascii: " ") else { return false }
            h = parsed
            return true
        }
        // "TCP4 " or "TCP6 ".
        guard end - i >= 5, s.u16(i) == 0x5443, s[i + 2] == UInt8(ascii: "P"), s[i + 4] == UInt8(ascii: " ") else {
            return false
        }
        let v6: Bool
        switch s[i + 3] {
        case UInt8(ascii: "4"): v6 = false
        case UInt8(ascii: "6"): v6 = true
        default: return false
        }
        i += 5
        // Four fields separated by single spaces: find the three spaces.
        let sourceStart = i
        var sourceEnd = -1
        var destinationEnd = -1
        var sourcePortEnd = -1
        var j = i
        while j < end {
            if s[j] == UInt8(ascii: " ") {
                if sourceEnd < 0 {
                    sourceEnd = j
                } else if destinationEnd < 0 {
                    destinationEnd = j
                } else if sourcePortEnd < 0 {
                    sourcePortEnd = j
                } else {
                    return false
                }
            }
            j += 1
        }
        guard sourcePortEnd >= 0,
            let sport = ProxyProtocolText.parseDecimal(s, from: destinationEnd + 1, to: sourcePortEnd, maximum: 65535),
            let dport = ProxyProtocolText.parseDecimal(s, from: sourcePortEnd + 1, to: end, maximum: 65535)
        else { return false }
        if v6 {
            guard let src = ProxyProtocolText.parseIPv6(s, from: sourceStart, to: sourceEnd),
                let dst = ProxyProtocolText.parseIPv6(s, from: sourceEnd + 1, to: destinationEnd)
            else { return false }
            parsed.source = src
            parsed.destination = dst
            parsed.familyAndTransport = ProxyProtocolV2.tcp6
        } else {
            guard let src = ProxyProtocolText.parseDottedQuad(s, from: sourceStart, to: sourceEnd),
                let dst = ProxyProtocolText.parseDottedQuad(s, from: sourceEnd + 1, to: destinationEnd)
            else { return false }
            parsed.source = IPAddress(v4: src)
            parsed.destination = IPAddress(v4: dst)
            parsed.familyAndTransport = ProxyProtocolV2.tcp4
        }
        parsed.sourcePort = UInt16(sport)
        parsed.destinationPort = UInt16(dport)
        parsed.carriesAddresses = true
        h = parsed
        return true
    }

    static func parseV2(_ s: Span<UInt8>, from: Int, length: Int, into h: inout ProxyProtocolHeader) -> Bool {
        var parsed = ProxyProtocolHeader()
        parsed.version = 2
        parsed.length = length
        let command = s[from + 12] & 0x0F
        guard command <= 1 else { return false }
        parsed.isLocal = command == 0
        let familyAndTransport = s[from + 13]
        parsed.familyAndTransport = familyAndTransport
        let family = familyAndTransport >> 4
        let transport = familyAndTransport & 0x0F
        guard family <= 3, transport <= 2 else { return false }
        let end = from + length
        var o = from + ProxyProtocolV2.fixedLength
        let addressLength: Int
        switch family {
        case 1: addressLength = 12
        case 2: addressLength = 36
        case 3: addressLength = 216
        default: addressLength = 0
        }
        // An address family with the UNSPEC transport has no defined address block: the receiver
        // ignores address information, so the rest of the header is opaque. Family UNSPEC (LOCAL) has
        // no address block and TLVs start right after the fixed part.
        if family != 0 && transport == 0 {
            h = parsed
            return true
        }
        guard end - o >= addressLength else { return false }
        if family == 1 {
            parsed.source = s.ipv4Address(o)
            parsed.destination = s.ipv4Address(o + 4)
            parsed.sourcePort = s.u16(o + 8)
            parsed.destinationPort = s.u16(o + 10)
        } else if family == 2 {
            parsed.source = s.ipv6Address(o)
            parsed.destination = s.ipv6Address(o + 16)
            parsed.sourcePort = s.u16(o + 32)
            parsed.destinationPort = s.u16(o + 34)
        }
        parsed.carriesAddresses = !parsed.isLocal && (family == 1 || family == 2)
        o += addressLength
        var crcOffset = -1
        while o < end {
            guard end - o >= 3 else { return false }
            let type = s[o]
            let valueLength = Int(s.u16(o + 1))
            let value = o + 3
            guard valueLength <= end - value else { return false }
            switch type {
            case ProxyProtocolV2.typeCRC32C:
                guard valueLength == 4, crcOffset < 0 else { return false }
                crcOffset = value
            case ProxyProtocolV2.typeUniqueID:
                guard valueLength <= 128 else { return false }
                if parsed.uniqueIDOffset < 0 {
                    parsed.uniqueIDOffset = value
                    parsed.uniqueIDLength = valueLength
                }
            default:
                break
            }
            o = value + valueLength
        }
        if crcOffset >= 0 {
            var crc = CRC32C.checksum(s, from: from, count: crcOffset - from)
            crc = CRC32C.checksumOfZeros(count: 4, seed: crc)
            crc = CRC32C.checksum(s, from: crcOffset + 4, count: end - crcOffset - 4, seed: crc)
            guard crc == s.u32(crcOffset) else { return false }
            parsed.hasCRC32C = true
        }
        h = parsed
        return true
    }
}
