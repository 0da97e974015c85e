// fuzz-client-address: the PROXY protocol parser on the raw input, then the writers on a TCP segment
// built from it. Input: [flags] [option length] [options] [prefix count] [payload...]; flags bit 0
// selects IPv6, bit 1 PROXY v1 instead of v2, bit 2 the v2 CRC32C, bit 3 a v2 unique ID, bits 4-7
// the MTU (576 + 64 per step). An insertion that reports success must leave a frame whose checksums
// and lengths verify (FrameChecker): the writers update them incrementally, so this is an oracle,
// not only a crash search.

import SluicePacket
import SluiceTestKit

/// The writers and parsers of the client address.
public enum ClientAddressHarness {
    static let client = IPAddress("198.51.100.2")!
    static let client6 = IPAddress("2001:db8:c::2")!
    static let server = IPAddress("10.30.0.11")!
    static let server6 = IPAddress("2001:db8:30::11")!

    public static func run(input bytes: [UInt8]) {
        var header = ProxyProtocolHeader()
        _ = ProxyProtocol.parse(bytes.span, from: 0, count: bytes.count, into: &header)

        var input = FuzzInput(bytes)
        let flags = input.byte()
        var options = Array(input.take(Int(input.byte()) % 41))
        while options.count % 4 != 0 { options.append(1) }  // NOP padding to whole words
        let prefixCount = Int(input.byte())
        let payload = Array(input.take(1400))
        let v6 = flags & 1 != 0
        let b = PacketBuilder().ethernet()
        let ip = v6 ? b.ipv6(src: client6, dst: server6) : b.ipv4(src: client, dst: server)
        let frame = ip.tcp(sport: 40000, dport: 8080, seq: 1, ack: 1, options: [.bytes(options)], payload: payload)
            .build()

        var info = PacketInfo()
        guard PacketParser.parse(frame.span, length: frame.count, into: &info) == nil, info.l4Protocol == 6 else {
            return
        }
        var buffer = frame + [UInt8](repeating: 0, count: 4096 - frame.count)
        var length = frame.count
        let mtu = 576 + Int(flags >> 4) * 64
        let toa: TOAInsertResult
        do {
            var span = buffer.mutableSpan
            toa = TOA.insert(
                into: &span, length: &length, info: &info, port: 40000, address: v6 ? client6 : client, mtu: mtu)
        }
        switch toa {
        case .inserted, .pruned: check(buffer, length, "TOA \(toa)")
        case .noRoom, .malformed: break
        }

        let source = v6 ? client6 : client
        let destination = v6 ? server6 : server
        let inserted: Bool
        do {
            var span = buffer.mutableSpan
            inserted = TCPPayloadPrefix.insert(count: prefixCount, into: &span, length: &length, info: info) {
                frame, at in
                if flags & 2 != 0 {
                    return ProxyProtocolV1.write(
                        into: &frame, at: at, source: source, sourcePort: 40000, destination: destination,
                        destinationPort: 80)
                }
                return ProxyProtocolV2.write(
                    into: &frame, at: at, source: source, sourcePort: 40000, destination: destination,
                    destinationPort: 80, uniqueID: flags & 8 != 0 ? 0x1234 : nil, crc32c: flags & 4 != 0)
            }
        }
        if inserted { check(buffer, length, "PROXY header of \(prefixCount) bytes") }
    }

    static func check(_ buffer: [UInt8], _ length: Int, _ what: String) {
        precondition(length > 0 && length <= buffer.count, "\(what): length \(length) outside the buffer")
        if let problem = FrameChecker.problem(Array(buffer.prefix(length))) {
            preconditionFailure("\(what) left a broken frame: \(problem)")
        }
    }

    /// Seeds: PROXY v1 and v2 headers (the parser's input) and segments with options and payloads.
    public static func seeds() -> [(name: String, bytes: [UInt8])] {
        let v1 = Array("PROXY TCP4 198.51.100.2 203.0.113.10 40000 80\r\n".utf8)
        var v2 = [UInt8](repeating: 0, count: 64)
        let written: Int
        do {
            var span = v2.mutableSpan
            written = ProxyProtocolV2.write(
                into: &span, at: 0, source: client, sourcePort: 40000, destination: server, destinationPort: 80,
                uniqueID: 7, crc32c: true)
        }
        let mss: [UInt8] = [2, 4, 5, 0xB4, 1, 1, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0]
        return [
            ("proxy-v1", v1), ("proxy-v2", Array(v2.prefix(written))),
            ("segment-v4-pp2", [0x34, UInt8(mss.count)] + mss + [28] + Array("GET / HTTP/1.1\r\n\r\n".utf8)),
            ("segment-v6-pp1", [0x73, 0, 56] + Array("hello".utf8)),
            (
                "segment-v4-full-mtu",
                [0x04, 40] + [UInt8](repeating: 1, count: 40) + [16] + [UInt8](repeating: 0x61, count: 1400)
            ),
        ]
    }
}
