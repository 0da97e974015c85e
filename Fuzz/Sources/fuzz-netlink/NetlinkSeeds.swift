// Seeds for fuzz-netlink: the kernel's own message layouts (rtnetlink(7)): a link with its address,
// name and MTU, IPv4 and IPv6 routes (connected and via a gateway) in the main table, and reachable
// neighbours, each in one datagram and all together, host byte order for the headers.

enum NetlinkSeeds {
    static let newLink: UInt16 = 16, newRoute: UInt16 = 24, newNeighbour: UInt16 = 28
    static let inet: UInt8 = 2, inet6: UInt8 = 10
    static let mainTable: UInt8 = 254

    static func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
    static func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }

    /// One attribute, padded to 4 bytes.
    static func attribute(_ type: UInt16, _ payload: [UInt8]) -> [UInt8] {
        var a = le16(UInt16(4 + payload.count)) + le16(type) + payload
        while a.count % 4 != 0 { a.append(0) }
        return a
    }

    static func message(_ type: UInt16, _ body: [UInt8], sequence: UInt32 = 1) -> [UInt8] {
        le32(UInt32(16 + body.count)) + le16(type) + le16(0x2) + le32(sequence) + le32(0) + body
    }

    static func link(index: UInt32, name: String, mac: [UInt8], mtu: UInt32) -> [UInt8] {
        // ifinfomsg: family, pad, type (ARPHRD_ETHER 1), index, flags (IFF_UP | IFF_RUNNING), change.
        let header: [UInt8] = [0, 0] + le16(1) + le32(index) + le32(0x41) + le32(0xFFFF_FFFF)
        return message(
            newLink,
            header + attribute(1, mac) + attribute(3, Array(name.utf8) + [0]) + attribute(4, le32(mtu)))
    }

    static func route(family: UInt8, destination: [UInt8], prefix: UInt8, oif: UInt32, gateway: [UInt8]?) -> [UInt8] {
        // rtmsg: family, dst_len, src_len, tos, table, protocol (boot 3), scope (universe 0), type (unicast 1), flags.
        let header: [UInt8] = [family, prefix, 0, 0, mainTable, 3, 0, 1] + le32(0)
        var body = header + attribute(1, destination) + attribute(4, le32(oif)) + attribute(15, le32(254))
        if let gateway { body += attribute(5, gateway) }
        return message(newRoute, body)
    }

    static func neighbour(family: UInt8, index: UInt32, address: [UInt8], mac: [UInt8]) -> [UInt8] {
        // ndmsg: family, pads, ifindex, state (NUD_REACHABLE 0x02), flags, type.
        let header: [UInt8] = [family, 0, 0, 0] + le32(index) + le16(0x02) + [0, 1]
        return message(newNeighbour, header + attribute(1, address) + attribute(2, mac))
    }

    static func record(_ datagram: [UInt8]) -> [UInt8] {
        [UInt8(datagram.count >> 8), UInt8(datagram.count & 0xFF)] + datagram
    }

    static func seeds() -> [(name: String, bytes: [UInt8])] {
        let mac: [UInt8] = [2, 0, 0, 0, 1, 1]
        let v6Router: [UInt8] = [0x20, 0x01, 0x0d, 0xb8, 0, 0x20] + [UInt8](repeating: 0, count: 9) + [1]
        let v6Prefix: [UInt8] = [0x20, 0x01, 0x0d, 0xb8, 0, 0x30] + [UInt8](repeating: 0, count: 10)
        let messages = [
            ("link", link(index: 2, name: "int0", mac: mac, mtu: 1500)),
            ("route4-connected", route(family: inet, destination: [10, 20, 0, 0], prefix: 24, oif: 2, gateway: nil)),
            (
                "route4-gateway",
                route(family: inet, destination: [10, 30, 0, 0], prefix: 24, oif: 2, gateway: [10, 20, 0, 1])
            ),
            ("route6-gateway", route(family: inet6, destination: v6Prefix, prefix: 64, oif: 2, gateway: v6Router)),
            ("neighbour4", neighbour(family: inet, index: 2, address: [10, 20, 0, 1], mac: [2, 0, 0, 0, 0, 0xA0])),
            ("neighbour6", neighbour(family: inet6, index: 2, address: v6Router, mac: [2, 0, 0, 0, 0, 0xA0])),
        ]
        var seeds = messages.map { ($0.0, record($0.1)) }
        seeds.append(("all-one-datagram", record(messages.flatMap { $0.1 })))
        seeds.append(("all-separate", messages.flatMap { record($0.1) }))
        return seeds
    }
}
