// Test frames from a fluent value builder: Ethernet (optional VLAN tag), IPv4 (options, fragment
// fields) or IPv6 (extension headers), then TCP (options), UDP, ICMP, ICMPv6 or raw bytes, with every
// length and checksum computed at `build()`.
//
// Test-only code: it allocates freely and traps on impossible requests (options longer than 40
// bytes). Its checksum arithmetic is written independently of SluicePacket.InternetChecksum (see
// `PacketBuilder.onesComplementSum`), so tests that compare the data plane's incremental updates with
// a builder-made frame are not checking the code against itself. Malformed fixtures are made by
// building a good frame and patching bytes (`fixIPv4HeaderChecksum` re-signs a patched IPv4 header).

import SluiceCore
import SluicePacket

/// A fluent builder of Ethernet frames for tests.
public struct PacketBuilder: Sendable {
    /// IPv6 extension headers, in the order given.
    public enum IPv6ExtensionHeader: Sendable, Equatable {
        /// Hop-by-hop options (next header 0); `options` are TLVs, padded with Pad1/PadN to 8 bytes.
        case hopByHop(options: [UInt8] = [])
        /// Destination options (60), padded like hop-by-hop.
        case destinationOptions(options: [UInt8] = [])
        /// Routing header (43); `data` follows the 4 fixed bytes and is zero-padded to 8 bytes. The
        /// default type 253 (RFC 4727 experimental) keeps tools from reading `data` as addresses.
        case routing(type: UInt8 = 253, segmentsLeft: UInt8 = 0, data: [UInt8] = [0, 0, 0, 0])
        /// Fragment header (44); `offset` in 8-byte units.
        case fragment(offset: UInt16 = 0, more: Bool = false, identification: UInt32 = 1)
        /// Any header: `bytes` is written as is except byte 0, which becomes the next header.
        case raw(type: UInt8, bytes: [UInt8])
    }

    enum Network: Sendable {
        case none
        case ipv4(
            source: IPAddress, destination: IPAddress, ttl: UInt8, options: [UInt8], df: Bool, id: UInt16,
            tos: UInt8, moreFragments: Bool, fragmentOffset: UInt16)
        case ipv6(
            source: IPAddress, destination: IPAddress, hopLimit: UInt8, extensionHeaders: [IPv6ExtensionHeader],
            trafficClass: UInt8, flowLabel: UInt32)
    }

    enum Transport: Sendable {
        case none
        case tcp(
            sport: UInt16, dport: UInt16, seq: UInt32, ack: UInt32, flags: UInt8, window: UInt16,
            options: [TCPOptionSpec], payload: [UInt8])
        case udp(sport: UInt16, dport: UInt16, payload: [UInt8], zeroChecksum: Bool)
        case icmp(type: UInt8, code: UInt8, rest: UInt32, payload: [UInt8])
        case icmpv6(type: UInt8, code: UInt8, rest: UInt32, payload: [UInt8])
        case raw(protocolNumber: UInt8, bytes: [UInt8])
    }

    var sourceMAC: UInt64 = 0x0200_0000_0001
    var destinationMAC: UInt64 = 0x0200_0000_0002
    var vlan: UInt16?
    var vlanTagType: UInt16 = 0x8100
    var network: Network = .none
    var transport: Transport = .none
    var trailer: [UInt8] = []

    /// An empty builder: default MACs 02:00:00:00:00:01 → 02:00:00:00:00:02, no VLAN.
    public init() {}

    /// Sets the Ethernet addresses (48-bit values, first octet most significant) and an optional
    /// VLAN tag (`tagType` 0x8100 for 802.1Q or 0x88A8 for 802.1ad).
    public func ethernet(
        src: UInt64 = 0x0200_0000_0001, dst: UInt64 = 0x0200_0000_0002, vlan: UInt16? = nil,
        tagType: UInt16 = 0x8100
    ) -> PacketBuilder {
        var b = self
        b.sourceMAC = src
        b.destinationMAC = dst
        b.vlan = vlan
        b.vlanTagType = tagType
        return b
    }

    /// `ethernet` with SluiceCore MAC addresses.
    public func ethernet(src: MACAddress, dst: MACAddress, vlan: UInt16? = nil) -> PacketBuilder {
        ethernet(src: src.value, dst: dst.value, vlan: vlan)
    }

    /// An IPv4 header. `options` are zero-padded to a multiple of 4 bytes (at most 40).
    public func ipv4(
        src: IPAddress, dst: IPAddress, ttl: UInt8 = 64, options: [UInt8] = [], df: Bool = true, id: UInt16 = 0,
        tos: UInt8 = 0, moreFragments: Bool = false, fragmentOffset: UInt16 = 0
    ) -> PacketBuilder {
        precondition(!src.isV6 && !dst.isV6, "ipv4 needs IPv4 addresses")
        var b = self
        b.network = .ipv4(
            source: src, destination: dst, ttl: ttl, options: options, df: df, id: id, tos: tos,
            moreFragments: moreFragments, fragmentOffset: fragmentOffset)
        return b
    }

    /// `ipv4` with addresses as text (traps if they do not parse).
    public func ipv4(
        src: String, dst: String, ttl: UInt8 = 64, options: [UInt8] = [], df: Bool = true, id: UInt16 = 0,
        tos: UInt8 = 0, moreFragments: Bool = false, fragmentOffset: UInt16 = 0
    ) -> PacketBuilder {
        ipv4(
            src: Self.address(src), dst: Self.address(dst), ttl: ttl, options: options, df: df, id: id, tos: tos,
            moreFragments: moreFragments, fragmentOffset: fragmentOffset)
    }

    /// An IPv6 header followed by `extensionHeaders`.
    public func ipv6(
        src: IPAddress, dst: IPAddress, hopLimit: UInt8 = 64, extensionHeaders: [IPv6ExtensionHeader] = [],
        trafficClass: UInt8 = 0, flowLabel: UInt32 = 0
    ) -> PacketBuilder {
        precondition(src.isV6 && dst.isV6, "ipv6 needs IPv6 addresses")
        var b = self
        b.network = .ipv6(
            source: src, destination: dst, hopLimit: hopLimit, extensionHeaders: extensionHeaders,
            trafficClass: trafficClass, flowLabel: flowLabel)
        return b
    }

    /// `ipv6` with addresses as text (traps if they do not parse).
    public func ipv6(
        src: String, dst: String, hopLimit: UInt8 = 64, extensionHeaders: [IPv6ExtensionHeader] = [],
        trafficClass: UInt8 = 0, flowLabel: UInt32 = 0
    ) -> PacketBuilder {
        ipv6(
            src: Self.address(src), dst: Self.address(dst), hopLimit: hopLimit, extensionHeaders: extensionHeaders,
            trafficClass: trafficClass, flowLabel: flowLabel)
    }

    /// A TCP segment. `options` are padded with EOL/zero bytes to a multiple of 4 (at most 40).
    public func tcp(
        sport: UInt16, dport: UInt16, seq: UInt32 = 1000, ack: UInt32 = 0, flags: UInt8 = TCPFlag.ack,
        window: UInt16 = 65535, options: [TCPOptionSpec] = [], payload: [UInt8] = []
    ) -> PacketBuilder {
        var b = self
        b.transport = .tcp(
            sport: sport, dport: dport, seq: seq, ack: ack, flags: flags, window: window, options: options,
            payload: payload)
        return b
    }

    /// A UDP datagram; `zeroChecksum` sends checksum 0 ("none", IPv4 only by the RFCs).
    public func udp(sport: UInt16, dport: UInt16, payload: [UInt8] = [], zeroChecksum: Bool = false)
        -> PacketBuilder
    {
        var b = self
        b.transport = .udp(sport: sport, dport: dport, payload: payload, zeroChecksum: zeroChecksum)
        return b
    }

    /// An ICMPv4 message; `rest` is the 32-bit word after the checksum (id/seq, MTU, ...).
    public func icmp(type: UInt8, code: UInt8 = 0, rest: UInt32 = 0, payload: [UInt8] = []) -> PacketBuilder {
        var b = self
        b.transport = .icmp(type: type, code: code, rest: rest, payload: payload)
        return b
    }

    /// An ICMPv6 message (checksum with the IPv6 pseudo-header).
    public func icmpv6(type: UInt8, code: UInt8 = 0, rest: UInt32 = 0, payload: [UInt8] = []) -> PacketBuilder {
        var b = self
        b.transport = .icmpv6(type: type, code: code, rest: rest, payload: payload)
        return b
    }

    /// Arbitrary bytes as the transport of protocol `protocolNumber` (no checksum).
    public func rawTransport(protocol protocolNumber: UInt8, bytes: [UInt8]) -> PacketBuilder {
        var b = self
        b.transport = .raw(protocolNumber: protocolNumber, bytes: bytes)
        return b
    }

    /// Appends `count` zero bytes after the IP datagram (Ethernet padding).
    public func padding(_ count: Int) -> PacketBuilder {
        var b = self
        b.trailer = [UInt8](repeating: 0, count: count)
        return b
    }

    /// The whole frame.
    public func build() -> [UInt8] {
        var frame: [UInt8] = []
        Self.append48(destinationMAC, to: &frame)
        Self.append48(sourceMAC, to: &frame)
        if let vlan {
            Self.append16(vlanTagType, to: &frame)
            Self.append16(vlan, to: &frame)
        }
        switch network {
        case .none: preconditionFailure("PacketBuilder needs .ipv4 or .ipv6")
        case .ipv4: Self.append16(0x0800, to: &frame)
        case .ipv6: Self.append16(0x86DD, to: &frame)
        }
        return frame + buildIP() + trailer
    }

    /// The IP datagram alone (no Ethernet header, no padding): the quoted part of an ICMP error.
    public func buildIP() -> [UInt8] {
        var l4 = transportBytes()
        let protocolNumber = transportProtocol
        switch network {
        case .none:
            preconditionFailure("PacketBuilder needs .ipv4 or .ipv6")
        case .ipv4(let src, let dst, let ttl, let options, let df, let id, let tos, let more, let fragmentOffset):
            precondition(options.count <= 40, "IPv4 options are at most 40 bytes")
            let paddedOptions = options + [UInt8](repeating: 0, count: (4 - options.count % 4) % 4)
            let headerLength = 20 + paddedOptions.count
            var header: [UInt8] = [0x40 | UInt8(headerLength / 4), tos]
            Self.append16(UInt16(headerLength + l4.count), to: &header)
            Self.append16(id, to: &header)
            Self.append16((df ? 0x4000 : 0) | (more ? 0x2000 : 0) | (fragmentOffset & 0x1FFF), to: &header)
            header += [ttl, protocolNumber, 0, 0]
            Self.append32(src.v4, to: &header)
            Self.append32(dst.v4, to: &header)
            header += paddedOptions
            let headerChecksum = ~Self.fold(Self.onesComplementSum(header))
            header[10] = UInt8(headerChecksum >> 8)
            header[11] = UInt8(headerChecksum & 0xFF)
            finishTransportChecksum(&l4, source: src, destination: dst)
            return header + l4
        case .ipv6(let src, let dst, let hopLimit, let extensionHeaders, let trafficClass, let flowLabel):
            var extensions: [UInt8] = []
            var types: [UInt8] = []
            var bodies: [[UInt8]] = []
            for h in extensionHeaders {
                let (type, body) = Self.encode(h)
                types.append(type)
                bodies.append(body)
            }
            for (i, body) in bodies.enumerated() {
                var body = body
                body[0] = i + 1 < types.count ? types[i + 1] : protocolNumber
                extensions += body
            }
            let firstNext = types.first ?? protocolNumber
            var header: [UInt8] = []
            Self.append32(
                6 << 28 | UInt32(trafficClass) << 20 | (flowLabel & 0xF_FFFF), to: &header)
            Self.append16(UInt16(extensions.count + l4.count), to: &header)
            header += [firstNext, hopLimit]
            Self.append64(src.high, to: &header)
            Self.append64(src.low, to: &header)
            Self.append64(dst.high, to: &header)
            Self.append64(dst.low, to: &header)
            finishTransportChecksum(&l4, source: src, destination: dst)
            return header + extensions + l4
        }
    }

    /// Recomputes the IPv4 header checksum of `frame` after a test patched the header.
    public static func fixIPv4HeaderChecksum(_ frame: inout [UInt8], l3Offset: Int = 14) {
        let headerLength = Int(frame[l3Offset] & 0x0F) * 4
        frame[l3Offset + 10] = 0
        frame[l3Offset + 11] = 0
        let c = ~fold(onesComplementSum(Array(frame[l3Offset..<(l3Offset + headerLength)])))
        frame[l3Offset + 10] = UInt8(c >> 8)
        frame[l3Offset + 11] = UInt8(c & 0xFF)
    }

    var transportProtocol: UInt8 {
        switch transport {
        case .none: preconditionFailure("PacketBuilder needs a transport (.tcp, .udp, .icmp, ...)")
        case .tcp: 6
        case .udp: 17
        case .icmp: 1
        case .icmpv6: 58
        case .raw(let p, _): p
        }
    }

    func transportBytes() -> [UInt8] {
        var out: [UInt8] = []
        switch transport {
        case .none:
            preconditionFailure("PacketBuilder needs a transport (.tcp, .udp, .icmp, ...)")
        case .tcp(let sport, let dport, let seq, let ack, let flags, let window, let options, let payload):
            var optionBytes = options.flatMap { $0.encoded }
            precondition(optionBytes.count <= 40, "TCP options are at most 40 bytes")
            optionBytes += [UInt8](repeating: 0, count: (4 - optionBytes.count % 4) % 4)
            Self.append16(sport, to: &out)
            Self.append16(dport, to: &out)
            Self.append32(seq, to: &out)
            Self.append32(ack, to: &out)
            out += [UInt8((20 + optionBytes.count) / 4) << 4, flags]
            Self.append16(window, to: &out)
            out += [0, 0, 0, 0]
            out += optionBytes + payload
        case .udp(let sport, let dport, let payload, _):
            Self.append16(sport, to: &out)
            Self.append16(dport, to: &out)
            Self.append16(UInt16(8 + payload.count), to: &out)
            out += [0, 0] + payload
        case .icmp(let type, let code, let rest, let payload), .icmpv6(let type, let code, let rest, let payload):
            out += [type, code, 0, 0]
            Self.append32(rest, to: &out)
            out += payload
        case .raw(_, let bytes):
            out = bytes
        }
        return out
    }

    func finishTransportChecksum(_ l4: inout [UInt8], source: IPAddress, destination: IPAddress) {
        let pseudo = Self.pseudoHeaderSum(
            source: source, destination: destination, protocolNumber: transportProtocol, length: l4.count)
        let checksumOffset: Int
        var sum: UInt64
        switch transport {
        case .none, .raw:
            return
        case .tcp:
            checksumOffset = 16
            sum = pseudo + Self.onesComplementSum(l4)
        case .udp(_, _, _, let zero):
            if zero { return }
            checksumOffset = 6
            sum = pseudo + Self.onesComplementSum(l4)
        case .icmp:
            checksumOffset = 2
            sum = Self.onesComplementSum(l4)
        case .icmpv6:
            checksumOffset = 2
            sum = pseudo + Self.onesComplementSum(l4)
        }
        var c = ~Self.fold(sum)
        if case .udp = transport, c == 0 { c = 0xFFFF }
        l4[checksumOffset] = UInt8(c >> 8)
        l4[checksumOffset + 1] = UInt8(c & 0xFF)
    }

    static func encode(_ h: IPv6ExtensionHeader) -> (UInt8, [UInt8]) {
        switch h {
        case .hopByHop(let options):
            return (0, optionsHeader(options))
        case .destinationOptions(let options):
            return (60, optionsHeader(options))
        case .routing(let type, let segmentsLeft, let data):
            var body: [UInt8] = [0, 0, type, segmentsLeft] + data
            body += [UInt8](repeating: 0, count: (8 - body.count % 8) % 8)
            body[1] = UInt8(body.count / 8 - 1)
            return (43, body)
        case .fragment(let offset, let more, let identification):
            var body: [UInt8] = [0, 0]
            append16(offset << 3 | (more ? 1 : 0), to: &body)
            append32(identification, to: &body)
            return (44, body)
        case .raw(let type, let bytes):
            precondition(!bytes.isEmpty)
            return (type, bytes)
        }
    }

    /// A hop-by-hop or destination options header (RFC 8200 §4.2): next header (filled later),
    /// length in 8-byte units minus one, the TLVs, then Pad1 or PadN up to a multiple of 8 bytes.
    static func optionsHeader(_ options: [UInt8]) -> [UInt8] {
        let padding = (8 - (2 + options.count) % 8) % 8
        var out: [UInt8] = [0, 0] + options
        if padding == 1 {
            out.append(0)
        } else if padding >= 2 {
            out += [1, UInt8(padding - 2)] + [UInt8](repeating: 0, count: padding - 2)
        }
        out[1] = UInt8(out.count / 8 - 1)
        return out
    }

    static func address(_ text: String) -> IPAddress {
        guard let a = IPAddress(text) else { preconditionFailure("not an IP address: \(text)") }
        return a
    }

    /// Sum of big-endian 16-bit words (odd byte padded), unfolded. Independent of SluicePacket.
    public static func onesComplementSum(_ bytes: [UInt8]) -> UInt64 {
        var sum: UInt64 = 0
        var i = 0
        while i + 1 < bytes.count {
            sum += UInt64(bytes[i]) << 8 | UInt64(bytes[i + 1])
            i += 2
        }
        if i < bytes.count { sum += UInt64(bytes[i]) << 8 }
        return sum
    }

    /// Folds a sum with end-around carries.
    public static func fold(_ sum: UInt64) -> UInt16 {
        var s = sum
        while s > 0xFFFF { s = (s & 0xFFFF) + (s >> 16) }
        return UInt16(s)
    }

    /// The pseudo-header sum (RFC 768 / RFC 8200 §8.1), unfolded. Independent of SluicePacket.
    public static func pseudoHeaderSum(source: IPAddress, destination: IPAddress, protocolNumber: UInt8, length: Int)
        -> UInt64
    {
        var bytes: [UInt8] = []
        if source.isV6 {
            append64(source.high, to: &bytes)
            append64(source.low, to: &bytes)
            append64(destination.high, to: &bytes)
            append64(destination.low, to: &bytes)
            append32(UInt32(length), to: &bytes)
            bytes += [0, 0, 0, protocolNumber]
        } else {
            append32(source.v4, to: &bytes)
            append32(destination.v4, to: &bytes)
            bytes += [0, protocolNumber]
            append16(UInt16(length), to: &bytes)
        }
        return onesComplementSum(bytes)
    }

    static func append16(_ v: UInt16, to a: inout [UInt8]) {
        a += [UInt8(v >> 8), UInt8(v & 0xFF)]
    }

    static func append32(_ v: UInt32, to a: inout [UInt8]) {
        a += [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
    }

    static func append48(_ v: UInt64, to a: inout [UInt8]) {
        for shift in stride(from: 40, through: 0, by: -8) { a.append(UInt8(v >> UInt64(shift) & 0xFF)) }
    }

    static func append64(_ v: UInt64, to a: inout [UInt8]) {
        append32(UInt32(v >> 32), to: &a)
        append32(UInt32(v & 0xFFFF_FFFF), to: &a)
    }
}
