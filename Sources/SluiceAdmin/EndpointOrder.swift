// ipvsadm lists virtual and real servers sorted (libipvs ipvs_cmp_services / ipvs_cmp_dests): IPv4
// before IPv6, TCP before UDP, then the address and the port as numbers, so 10.0.0.9 comes before
// 10.0.0.10. The model carries addresses as text, hence the small parser; text that is no address
// (which the daemon does not send) sorts last, by its characters, rather than failing the listing.

/// A sort key for an ADDRESS:PORT of one protocol.
struct EndpointOrder: Comparable {
    /// 0 for IPv4, 1 for IPv6, 2 for text that is no address.
    let family: Int
    /// IPPROTO_TCP (6) before IPPROTO_UDP (17); other names after both.
    let protocolRank: Int
    let bytes: [UInt8]
    let text: String
    let port: UInt16

    init(protocol name: String = "", address: String, port: UInt16) {
        switch name.lowercased() {
        case "", "tcp": protocolRank = 6
        case "udp": protocolRank = 17
        default: protocolRank = 256
        }
        if let v4 = Self.ipv4Bytes(Substring(address)) {
            (family, bytes) = (0, v4)
        } else if let v6 = Self.ipv6Bytes(Substring(address)) {
            (family, bytes) = (1, v6)
        } else {
            (family, bytes) = (2, [])
        }
        self.text = address
        self.port = port
    }

    static func < (a: EndpointOrder, b: EndpointOrder) -> Bool {
        if a.family != b.family { return a.family < b.family }
        if a.protocolRank != b.protocolRank { return a.protocolRank < b.protocolRank }
        if a.bytes != b.bytes { return a.bytes.lexicographicallyPrecedes(b.bytes) }
        if a.text != b.text { return a.text < b.text }
        return a.port < b.port
    }

    /// Dotted quad, four decimal parts of 0...255.
    static func ipv4Bytes(_ text: Substring) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy({ $0.isASCII && $0.isNumber }), let byte = UInt8(part)
            else { return nil }
            bytes.append(byte)
        }
        return bytes
    }

    /// RFC 4291 text: hexadecimal groups, at most one `::`, optionally a dotted quad at the end.
    static func ipv6Bytes(_ text: Substring) -> [UInt8]? {
        let halves = text.split(separator: "::", omittingEmptySubsequences: false)
        guard halves.count <= 2 else { return nil }
        guard let head = groupBytes(halves[0]) else { return nil }
        guard halves.count == 2 else { return head.count == 16 ? head : nil }
        guard let tail = groupBytes(halves[1]), head.count + tail.count <= 14 else { return nil }
        return head + [UInt8](repeating: 0, count: 16 - head.count - tail.count) + tail
    }

    private static func groupBytes(_ text: Substring) -> [UInt8]? {
        if text.isEmpty { return [] }
        let groups = text.split(separator: ":", omittingEmptySubsequences: false)
        var bytes: [UInt8] = []
        for (index, group) in groups.enumerated() {
            if index == groups.count - 1, group.contains("."), let v4 = ipv4Bytes(group) {
                bytes += v4
                continue
            }
            guard (1...4).contains(group.count), group.allSatisfy({ $0.isASCII && $0.isHexDigit }),
                let value = UInt16(group, radix: 16)
            else { return nil }
            bytes += [UInt8(value >> 8), UInt8(value & 0xff)]
        }
        return bytes
    }
}
