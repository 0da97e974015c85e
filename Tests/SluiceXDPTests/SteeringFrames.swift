// Hand-built frames for the steering program's classification table. Only the fields sluice_steer reads
// are meaningful (checksums are left zero: the program never verifies them).

enum SteeringFrames {
    static let gatewayMAC: [UInt8] = [0x02, 0, 0, 0, 0, 1]
    static let clientMAC: [UInt8] = [0x02, 0, 0, 0, 0, 2]

    static func ethernet(_ type: UInt16, _ payload: [UInt8], vlan: UInt16? = nil) -> [UInt8] {
        var frame = gatewayMAC + clientMAC
        if let vlan { frame += [0x81, 0x00, UInt8(vlan >> 8), UInt8(truncatingIfNeeded: vlan)] }
        return frame + [UInt8(type >> 8), UInt8(truncatingIfNeeded: type)] + payload
    }

    static func ipv4(
        source: [UInt8], destination: [UInt8], protocol transport: UInt8, _ payload: [UInt8], options: Int = 0,
        fragment: UInt16 = 0
    ) -> [UInt8] {
        let headerLength = 20 + options * 4
        let total = headerLength + payload.count
        var header: [UInt8] = [
            0x40 | UInt8(headerLength / 4), 0, UInt8(total >> 8), UInt8(truncatingIfNeeded: total), 0, 1,
            UInt8(fragment >> 8), UInt8(truncatingIfNeeded: fragment), 64, transport, 0, 0,
        ]
        header += source + destination
        header += Array(repeating: 1, count: options * 4)  // NOP options
        return header + payload
    }

    static func ipv6(source: [UInt8], destination: [UInt8], next: UInt8, _ payload: [UInt8]) -> [UInt8] {
        var header: [UInt8] = [
            0x60, 0, 0, 0, UInt8(payload.count >> 8), UInt8(truncatingIfNeeded: payload.count), next, 64,
        ]
        header += source + destination
        return header + payload
    }

    /// An 8-byte IPv6 extension header (hop-by-hop, routing, destination options) carrying `payload`.
    static func extensionHeader(next: UInt8, _ payload: [UInt8]) -> [UInt8] {
        [next, 0, 1, 4, 0, 0, 0, 0] + payload
    }

    /// An IPv6 fragment header: `offsetFlags` holds the offset in 8-byte units (high 13 bits) and M (bit 0);
    /// the default is a first fragment.
    static func fragmentHeader(next: UInt8, offsetFlags: UInt16 = 1, _ payload: [UInt8]) -> [UInt8] {
        [next, 0, UInt8(offsetFlags >> 8), UInt8(truncatingIfNeeded: offsetFlags), 0, 0, 0, 1] + payload
    }

    static func udp(source: UInt16, destination: UInt16, _ payload: [UInt8] = Array("sluice".utf8)) -> [UInt8] {
        let length = 8 + payload.count
        return [
            UInt8(source >> 8), UInt8(truncatingIfNeeded: source), UInt8(destination >> 8),
            UInt8(truncatingIfNeeded: destination), UInt8(length >> 8), UInt8(truncatingIfNeeded: length), 0, 0,
        ] + payload
    }

    static func tcp(source: UInt16, destination: UInt16) -> [UInt8] {
        [
            UInt8(source >> 8), UInt8(truncatingIfNeeded: source), UInt8(destination >> 8),
            UInt8(truncatingIfNeeded: destination), 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xFF, 0xFF, 0, 0, 0, 0,
        ]
    }

    /// ICMP or ICMPv6 message: type, code, 4 bytes of checksum/unused, then the body.
    static func icmp(type: UInt8, code: UInt8 = 0, _ body: [UInt8]) -> [UInt8] {
        [type, code, 0, 0, 0, 0, 0, 0] + body
    }

    static let arp: [UInt8] = ethernet(
        0x0806, [0, 1, 8, 0, 6, 4, 0, 1] + clientMAC + [10, 77, 0, 2] + [0, 0, 0, 0, 0, 0] + [10, 77, 0, 1])
}
