import SluicePacket
import Testing

/// Writes a v1 line at offset 3 of a 128-byte buffer and returns it as text.
func proxyV1(_ src: String, _ sport: UInt16, _ dst: String, _ dport: UInt16) -> String {
    var buffer = [UInt8](repeating: 0xEE, count: 128)
    var s = buffer.mutableSpan
    let n = ProxyProtocolV1.write(
        into: &s, at: 3, source: ip(src), sourcePort: sport, destination: ip(dst), destinationPort: dport)
    #expect(
        n
            == ProxyProtocolV1.length(
                source: ip(src), sourcePort: sport, destination: ip(dst), destinationPort: dport))
    #expect(buffer[..<3].allSatisfy { $0 == 0xEE } && buffer[(3 + n)...].allSatisfy { $0 == 0xEE })
    return String(decoding: buffer[3..<(3 + n)], as: UTF8.self)
}

/// Writes a v2 header into a buffer of exactly its length and returns the bytes.
func proxyV2(
    _ src: String, _ sport: UInt16, _ dst: String, _ dport: UInt16, uniqueID: UInt64? = nil, crc32c: Bool = false,
    command: ProxyProtocolV2.Command = .proxy
) -> [UInt8] {
    let v6 = ip(src).isV6 || ip(dst).isV6
    let length = ProxyProtocolV2.length(v6: v6, uniqueID: uniqueID, crc32c: crc32c, command: command)
    var buffer = [UInt8](repeating: 0xEE, count: length)
    var s = buffer.mutableSpan
    let n = ProxyProtocolV2.write(
        into: &s, at: 0, source: ip(src), sourcePort: sport, destination: ip(dst), destinationPort: dport,
        uniqueID: uniqueID, crc32c: crc32c, command: command)
    #expect(n == length)
    return buffer
}

func detect(_ bytes: [UInt8]) -> ProxyProtocolDetection {
    ProxyProtocol.detect(bytes.span, from: 0, count: bytes.count)
}

func parseProxy(_ bytes: [UInt8]) -> (ProxyProtocolDetection, ProxyProtocolHeader) {
    var header = ProxyProtocolHeader()
    let result = ProxyProtocol.parse(bytes.span, from: 0, count: bytes.count, into: &header)
    return (result, header)
}

let signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]

/// IPv6 addresses covering every RFC 5952 case: no zero run, a single zero group (not shortened),
/// runs at the start, middle and end, ties (the first wins), IPv4-mapped and IPv4-compatible.
let canonicalCases: [(String, String)] = [
    ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
    ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),
    ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
    ("0:0:0:0:0:0:0:0", "::"),
    ("::1", "::1"),
    ("1::", "1::"),
    ("fe80:0:0:0:0:0:0:0", "fe80::"),
    ("2001:DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
    ("0:0:1:0:0:0:0:0", "0:0:1::"),
    ("1:0:0:2:0:0:3:4", "1::2:0:0:3:4"),
    ("::ffff:192.0.2.1", "::ffff:192.0.2.1"),
    ("::ffff:0.0.0.0", "::ffff:0.0.0.0"),
    ("::1.2.3.4", "::102:304"),
    ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
    ("a:bc:def:1234:0:5:60:700", "a:bc:def:1234:0:5:60:700"),
]

@Suite struct ProxyProtocolV1Tests {
    /// The examples and worst cases of haproxy doc/proxy-protocol.txt §2.1.
    @Test func specificationExamples() {
        #expect(
            proxyV1("192.168.0.1", 56324, "192.168.0.11", 443) == "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n")
        let tcp4 = proxyV1("255.255.255.255", 65535, "255.255.255.255", 65535)
        #expect(tcp4 == "PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n")
        #expect(tcp4.utf8.count == 56)
        let all = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
        let tcp6 = proxyV1(all, 65535, all, 65535)
        #expect(tcp6 == "PROXY TCP6 \(all) \(all) 65535 65535\r\n")
        #expect(tcp6.utf8.count == 104)
        #expect(proxyV1("0.0.0.0", 0, "10.0.0.1", 9) == "PROXY TCP4 0.0.0.0 10.0.0.1 0 9\r\n")
        #expect(
            proxyV1("2001:db8::10", 40000, "2001:db8:1::1", 80) == "PROXY TCP6 2001:db8::10 2001:db8:1::1 40000 80\r\n")
    }

    @Test func unknown() {
        var buffer = [UInt8](repeating: 0, count: 20)
        do {
            var s = buffer.mutableSpan
            #expect(ProxyProtocolV1.writeUnknown(into: &s, at: 5) == 15)
            #expect(ProxyProtocolV1.writeUnknown(into: &s, at: 6) == 0)
        }
        #expect(String(decoding: buffer[5..<20], as: UTF8.self) == "PROXY UNKNOWN\r\n")
        #expect(ProxyProtocolV1.unknownLength == 15 && ProxyProtocolV1.maximumLength == 107)
    }

    @Test(arguments: canonicalCases)
    func ipv6TextIsCanonical(_ input: String, _ canonical: String) {
        let line = proxyV1(input, 1, "::", 2)
        #expect(line == "PROXY TCP6 \(canonical) :: 1 2\r\n")
        #expect(ip(input).description == canonical)
    }

    /// The allocation-free formatter against IPAddress.description over many addresses, with
    /// zero-group patterns chosen to exercise the run selection.
    @Test func formatterMatchesDescription() {
        var rng = SplitMix(seed: 0x5952)
        for _ in 0..<2000 {
            var groups = [UInt64]()
            for _ in 0..<8 {
                let r = rng.next() % 4
                groups.append(
                    r == 0 ? 0 : r == 1 ? rng.next() % 16 : r == 2 ? rng.next() % 0x1000 : rng.next() % 0x10000)
            }
            let high = groups[0..<4].reduce(0) { $0 << 16 | $1 }
            let low = groups[4..<8].reduce(0) { $0 << 16 | $1 }
            let a = IPAddress(v6High: high, low: low)
            let b = IPAddress(v4: UInt32(truncatingIfNeeded: rng.next()))
            let port = UInt16(truncatingIfNeeded: rng.next() >> UInt64(rng.next() % 16))
            let line = proxyV1(a.description, port, a.description, 443)
            #expect(line == "PROXY TCP6 \(a) \(a) \(port) 443\r\n")
            let line4 = proxyV1(b.description, port, b.description, 0)
            #expect(line4 == "PROXY TCP4 \(b) \(b) \(port) 0\r\n")
            // And back through the parser.
            let (result, header) = parseProxy(Array(line.utf8))
            #expect(result == .v1(length: line.utf8.count))
            #expect(header.source == a && header.destination == a && header.sourcePort == port)
        }
    }

    @Test func mixedFamiliesAreWrittenMapped() {
        #expect(proxyV1("192.0.2.1", 1000, "2001:db8::1", 80) == "PROXY TCP6 ::ffff:192.0.2.1 2001:db8::1 1000 80\r\n")
        #expect(proxyV1("2001:db8::1", 1000, "192.0.2.1", 80) == "PROXY TCP6 2001:db8::1 ::ffff:192.0.2.1 1000 80\r\n")
    }

    @Test func refusesWhenItDoesNotFit() {
        let length = ProxyProtocolV1.length(
            source: ip("192.0.2.1"), sourcePort: 1, destination: ip("192.0.2.2"), destinationPort: 2)
        #expect(length == "PROXY TCP4 192.0.2.1 192.0.2.2 1 2\r\n".utf8.count)
        for size in [0, length - 1, length, length + 1] {
            for at in [-1, 0, 1] {
                var buffer = [UInt8](repeating: 0xEE, count: size)
                var s = buffer.mutableSpan
                let n = ProxyProtocolV1.write(
                    into: &s, at: at, source: ip("192.0.2.1"), sourcePort: 1, destination: ip("192.0.2.2"),
                    destinationPort: 2)
                let fits = at >= 0 && at + length <= size
                #expect(n == (fits ? length : 0))
                if !fits { #expect(buffer.allSatisfy { $0 == 0xEE }) }
            }
        }
    }

    @Test func parsesWhatTheSpecificationAllows() {
        let (r1, h1) = parseProxy(Array("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET /".utf8))
        #expect(r1 == .v1(length: 47))
        #expect(h1.version == 1 && h1.carriesAddresses && h1.familyAndTransport == 0x11)
        #expect(h1.source == ip("192.168.0.1") && h1.destination == ip("192.168.0.11"))
        #expect(h1.sourcePort == 56324 && h1.destinationPort == 443)
        // Upper-case hex, leading zeros in groups and a dotted tail are all valid IPv6 text.
        let line2 = "PROXY TCP6 2001:DB8:0::0001 ::ffff:10.0.0.1 0 65535\r\n"
        let (r2, h2) = parseProxy(Array(line2.utf8))
        #expect(r2 == .v1(length: line2.utf8.count))
        #expect(h2.source == ip("2001:db8::1") && h2.destination == ip("::ffff:10.0.0.1"))
        #expect(h2.sourcePort == 0 && h2.destinationPort == 65535)
        for unknown in ["PROXY UNKNOWN\r\n", "PROXY UNKNOWN ffff::1 ffff::2 65535 65535\r\n", "PROXY UNKNOWN junk\r\n"]
        {
            let (r, h) = parseProxy(Array(unknown.utf8))
            #expect(r == .v1(length: unknown.utf8.count))
            #expect(h.version == 1 && !h.carriesAddresses && h.familyAndTransport == 0)
        }
    }

    @Test(arguments: [
        "PROXY TCP4 1.2.3.4 5.6.7.8 80\r\n",
        "PROXY TCP4 1.2.3.4 5.6.7.8 80 81 82\r\n",
        "PROXY TCP4 1.2.3.4  5.6.7.8 80 81\r\n",
        "PROXY TCP4 1.2.3.4 5.6.7.8 80 81 \r\n",
        "PROXY TCP4 01.2.3.4 5.6.7.8 80 81\r\n",
        "PROXY TCP4 1.2.3.256 5.6.7.8 80 81\r\n",
        "PROXY TCP4 1.2.3 5.6.7.8 80 81\r\n",
        "PROXY TCP4 1.2.3.4.5 5.6.7.8 80 81\r\n",
        "PROXY TCP4 1.2.3.4 5.6.7.8 080 81\r\n",
        "PROXY TCP4 1.2.3.4 5.6.7.8 80 65536\r\n",
        "PROXY TCP4 1.2.3.4 5.6.7.8 80 -1\r\n",
        "PROXY TCP4 ::1 ::2 80 81\r\n",
        "PROXY TCP6 1.2.3.4 5.6.7.8 80 81\r\n",
        "PROXY TCP6 1:2:3:4:5:6:7 ::2 80 81\r\n",
        "PROXY TCP6 1:2:3:4:5:6:7:8:9 ::2 80 81\r\n",
        "PROXY TCP6 1::2::3 ::2 80 81\r\n",
        "PROXY TCP6 12345::1 ::2 80 81\r\n",
        "PROXY TCP6 1: ::2 80 81\r\n",
        "PROXY TCP6 :1 ::2 80 81\r\n",
        "PROXY TCP6 1:2:3:4:5:6:7:1.2.3.4 ::2 80 81\r\n",
        "PROXY TCP6 ::1.2.3.4:1 ::2 80 81\r\n",
        "PROXY TCP6 ::g ::2 80 81\r\n",
        "PROXY TCP5 1.2.3.4 5.6.7.8 80 81\r\n",
        "PROXY tcp4 1.2.3.4 5.6.7.8 80 81\r\n",
        "PROXY UNKNOWNX\r\n",
        "PROXY \r\n",
        "PROXY TCP4\r\n",
    ])
    func rejectsMalformedLines(_ line: String) {
        let (result, header) = parseProxy(Array(line.utf8))
        #expect(result == .invalid)
        #expect(header.version == 0)
        // Framing alone accepts it: the content is what is wrong.
        #expect(detect(Array(line.utf8)) == .v1(length: line.utf8.count))
    }
}

@Suite struct ProxyProtocolV2Tests {
    @Test func tcp4ByteByByte() {
        let bytes = proxyV2("192.0.2.10", 40000, "198.51.100.1", 443)
        let expected: [UInt8] =
            signature + [0x21, 0x11, 0x00, 0x0C]
            + [192, 0, 2, 10] + [198, 51, 100, 1] + [0x9C, 0x40] + [0x01, 0xBB]
        #expect(bytes == expected)
        #expect(bytes.count == 28)
    }

    @Test func tcp6ByteByByte() {
        let bytes = proxyV2("2001:db8::10", 40000, "2001:db8:1::1", 80)
        let expected: [UInt8] =
            signature + [0x21, 0x21, 0x00, 0x24]
            + [0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10]
            + [0x20, 0x01, 0x0D, 0xB8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01]
            + [0x9C, 0x40, 0x00, 0x50]
        #expect(bytes == expected)
        #expect(bytes.count == 52)
    }

    @Test func uniqueIDTLV() {
        let bytes = proxyV2("192.0.2.10", 1, "198.51.100.1", 2, uniqueID: 0x0102_0304_0506_0708)
        let expected: [UInt8] =
            signature + [0x21, 0x11, 0x00, 0x17]
            + [192, 0, 2, 10, 198, 51, 100, 1, 0, 1, 0, 2]
            + [0x05, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8]
        #expect(bytes == expected)
        let (result, header) = parseProxy(bytes)
        #expect(result == .v2(length: 39))
        #expect(header.uniqueIDOffset == 31 && header.uniqueIDLength == 8)
        #expect(bytes.span.u64(header.uniqueIDOffset) == 0x0102_0304_0506_0708)
    }

    /// The CRC32C TLV: layout, and the value recomputed independently over the header with the
    /// field zeroed (haproxy §2.2.3).
    @Test(arguments: [false, true], [false, true])
    func crc32cTLV(v6: Bool, withUniqueID: Bool) {
        let src = v6 ? "2001:db8::10" : "192.0.2.10"
        let dst = v6 ? "2001:db8:1::1" : "198.51.100.1"
        let id: UInt64? = withUniqueID ? 0xDEAD_BEEF_0000_0001 : nil
        let bytes = proxyV2(src, 40000, dst, 443, uniqueID: id, crc32c: true)
        let addresses = v6 ? 36 : 12
        #expect(bytes.count == 16 + addresses + 7 + (withUniqueID ? 11 : 0))
        #expect(Array(bytes[12..<16]) == [0x21, v6 ? 0x21 : 0x11, 0, UInt8(bytes.count - 16)])
        let tlv = 16 + addresses
        #expect(Array(bytes[tlv..<(tlv + 3)]) == [0x03, 0x00, 0x04])
        if withUniqueID { #expect(Array(bytes[(tlv + 7)..<(tlv + 10)]) == [0x05, 0x00, 0x08]) }
        var zeroed = bytes
        for i in (tlv + 3)..<(tlv + 7) { zeroed[i] = 0 }
        #expect(bytes.span.u32(tlv + 3) == referenceCRC32C(zeroed))
        let (result, header) = parseProxy(bytes)
        #expect(result == .v2(length: bytes.count))
        #expect(header.hasCRC32C && header.carriesAddresses)
        #expect(header.source == ip(src) && header.destination == ip(dst))
        // Any single-bit change breaks the header (CRC mismatch or bad structure), except in the CRC
        // TLV's type byte: that turns it into an unknown TLV, and a header without CRC32C is valid.
        for i in 0..<bytes.count {
            var broken = bytes
            broken[i] ^= 0x10
            let (brokenResult, brokenHeader) = parseProxy(broken)
            if i == tlv {
                #expect(brokenResult == .v2(length: bytes.count) && !brokenHeader.hasCRC32C)
            } else {
                #expect(brokenResult != .v2(length: bytes.count), "bit flip at \(i) accepted")
            }
        }
    }

    @Test func local() {
        let bytes = proxyV2("192.0.2.10", 1, "198.51.100.1", 2, command: .local)
        #expect(bytes == signature + [0x20, 0x00, 0x00, 0x00])
        let withCRC = proxyV2("192.0.2.10", 1, "198.51.100.1", 2, crc32c: true, command: .local)
        #expect(Array(withCRC[12..<19]) == [0x20, 0x00, 0x00, 0x07, 0x03, 0x00, 0x04])
        let (result, header) = parseProxy(withCRC)
        #expect(result == .v2(length: 23))
        #expect(header.isLocal && !header.carriesAddresses && header.hasCRC32C)
    }

    @Test func mixedFamiliesAreWrittenMapped() {
        let bytes = proxyV2("192.0.2.10", 1, "2001:db8::1", 2)
        #expect(bytes[13] == 0x21)
        let (_, header) = parseProxy(bytes)
        #expect(header.source == ip("::ffff:192.0.2.10") && header.destination == ip("2001:db8::1"))
    }

    @Test func lengths() {
        #expect(ProxyProtocolV2.length(v6: false, uniqueID: nil, crc32c: false) == 28)
        #expect(ProxyProtocolV2.length(v6: true, uniqueID: nil, crc32c: false) == 52)
        #expect(ProxyProtocolV2.length(v6: true, uniqueID: 1, crc32c: true) == 70)
        #expect(ProxyProtocolV2.length(v6: true, uniqueID: nil, crc32c: false, command: .local) == 16)
    }

    @Test func refusesWhenItDoesNotFit() {
        for size in [0, 27, 28, 29] {
            for at in [-1, 0, 1] {
                var buffer = [UInt8](repeating: 0xEE, count: size)
                var s = buffer.mutableSpan
                let n = ProxyProtocolV2.write(
                    into: &s, at: at, source: ip("192.0.2.1"), sourcePort: 1, destination: ip("192.0.2.2"),
                    destinationPort: 2)
                let fits = at >= 0 && at + 28 <= size
                #expect(n == (fits ? 28 : 0))
                if !fits { #expect(buffer.allSatisfy { $0 == 0xEE }) }
            }
        }
    }

    /// Headers other senders may write: UNSPEC, UNIX, UDP, unknown TLVs, and the ones a receiver
    /// must reject.
    @Test func parsesAndRejects() {
        let base = proxyV2("192.0.2.10", 40000, "198.51.100.1", 443)
        func with(_ patch: (inout [UInt8]) -> Void) -> [UInt8] {
            var b = base
            patch(&b)
            return b
        }
        func setLength(_ b: inout [UInt8]) { b[15] = UInt8(b.count - 16) }
        // Valid: an unknown TLV and a NOOP are skipped; UDP carries addresses; UNIX is opaque.
        let noop = with {
            $0 += [0x04, 0x00, 0x00, 0xE0, 0x00, 0x02, 0xAB, 0xCD]
            setLength(&$0)
        }
        #expect(parseProxy(noop).0 == .v2(length: 36))
        let udp = with { $0[13] = 0x12 }
        #expect(parseProxy(udp).1.carriesAddresses)
        let unix = signature + [0x21, 0x31, 0x00, 0xD8] + [UInt8](repeating: 0x41, count: 216)
        let (unixResult, unixHeader) = parseProxy(unix)
        #expect(unixResult == .v2(length: 232) && !unixHeader.carriesAddresses)
        let unspecTransport = with { $0[13] = 0x10 }
        #expect(parseProxy(unspecTransport).0 == .v2(length: 28))
        // Invalid.
        let invalid: [[UInt8]] = [
            with { $0[12] = 0x22 },  // command 2
            with { $0[13] = 0x41 },  // family 4
            with { $0[13] = 0x13 },  // transport 3
            with {
                $0.removeLast()
                setLength(&$0)
            },  // address block shorter than 12
            with {
                $0 += [0x05, 0x00, 0x02, 0x01]
                setLength(&$0)
            },  // TLV runs past the header
            with {
                $0 += [0x05, 0x00]
                setLength(&$0)
            },  // a TLV header cut short
            with {
                $0 += [0x03, 0x00, 0x03, 0, 0, 0]
                setLength(&$0)
            },  // CRC32C of the wrong length
            with {
                $0 += [0x05, 0x00, 0x81] + [UInt8](repeating: 1, count: 129)
                $0[14] = UInt8((($0.count - 16) >> 8))
                $0[15] = UInt8(($0.count - 16) & 0xFF)
            },  // UNIQUE_ID longer than 128 bytes
        ]
        for (i, bytes) in invalid.enumerated() {
            let (result, header) = parseProxy(bytes)
            #expect(result == .invalid, "case \(i)")
            #expect(header.version == 0)
        }
    }
}

@Suite struct ProxyProtocolDetectionTests {
    @Test func notAHeader() {
        #expect(detect(Array("GET / HTTP/1.1\r\n".utf8)) == .none)
        #expect(detect(Array("PROXZ".utf8)) == .none)
        #expect(detect(Array("PROXYTCP4".utf8)) == .none)
        #expect(detect([0x0D, 0x0A, 0x0D, 0x0A, 0x01]) == .none)
        #expect(detect([0x16, 0x03, 0x01]) == .none)
        // Out-of-range requests are answered, not trapped on.
        let bytes = Array("PROXY UNKNOWN\r\n".utf8)
        #expect(ProxyProtocol.detect(bytes.span, from: -1, count: 4) == .none)
        #expect(ProxyProtocol.detect(bytes.span, from: 16, count: 4) == .none)
        #expect(ProxyProtocol.detect(bytes.span, from: 0, count: -3) == .none)
        #expect(ProxyProtocol.detect(bytes.span, from: 0, count: 1000) == .v1(length: 15))
        #expect(ProxyProtocol.detect(bytes.span, from: 15, count: 4) == .incomplete)
    }

    /// Every proper prefix of a header is incomplete; the whole header (and anything after it) is
    /// detected with its length.
    @Test func prefixesAreIncomplete() {
        let headers: [[UInt8]] = [
            Array("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n".utf8),
            Array("PROXY UNKNOWN\r\n".utf8),
            proxyV2("192.0.2.10", 40000, "198.51.100.1", 443),
            proxyV2("2001:db8::10", 40000, "2001:db8:1::1", 80, uniqueID: 7, crc32c: true),
            proxyV2("192.0.2.10", 40000, "198.51.100.1", 443, command: .local),
        ]
        for header in headers {
            let v1 = header[0] == UInt8(ascii: "P")
            let complete: ProxyProtocolDetection = v1 ? .v1(length: header.count) : .v2(length: header.count)
            for n in 0..<header.count {
                #expect(detect(Array(header[..<n])) == .incomplete, "prefix \(n)")
                #expect(parseProxy(Array(header[..<n])).0 == .incomplete)
            }
            #expect(detect(header) == complete)
            #expect(detect(header + Array("payload\r\n".utf8)) == complete)
            #expect(parseProxy(header + [0, 1, 2]).0 == complete)
            // At an offset inside a larger buffer.
            let framed = [UInt8](repeating: 0x55, count: 9) + header + [1, 2, 3]
            #expect(ProxyProtocol.detect(framed.span, from: 9, count: header.count + 3) == complete)
            #expect(ProxyProtocol.detect(framed.span, from: 9, count: header.count - 1) == .incomplete)
        }
    }

    @Test func v1LineRules() {
        // A lone LF, or a CR not followed by LF, is invalid.
        #expect(detect(Array("PROXY TCP4\n".utf8)) == .invalid)
        #expect(detect(Array("PROXY TCP4\rX\n".utf8)) == .invalid)
        #expect(detect(Array("PROXY TCP4\r".utf8)) == .incomplete)
        // The CRLF must end within the first 107 bytes.
        let fill = { (n: Int) in Array("PROXY ".utf8) + [UInt8](repeating: UInt8(ascii: "x"), count: n - 6) }
        #expect(detect(fill(105) + [0x0D, 0x0A]) == .v1(length: 107))
        #expect(detect(fill(106) + [0x0D, 0x0A]) == .invalid)
        #expect(detect(fill(106)) == .incomplete)
        #expect(detect(fill(107)) == .invalid)
        #expect(detect(fill(300)) == .invalid)
        let longest =
            "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n"
        #expect(longest.utf8.count == ProxyProtocolV1.maximumLength)
        #expect(parseProxy(Array(longest.utf8)).0 == .v1(length: 107))
    }

    @Test func v2VersionMustBeTwo() {
        var bytes = proxyV2("192.0.2.10", 1, "198.51.100.1", 2)
        for version: UInt8 in [0x0, 0x1, 0x3, 0xF] {
            bytes[12] = version << 4 | 1
            #expect(detect(bytes) == .invalid)
            #expect(detect(Array(bytes[..<13])) == .invalid)
        }
    }

    /// Every prefix, every single-byte corruption and random bytes after a signature: detect and
    /// parse must answer without trapping, and a parse result must lie inside the input.
    @Test func noTrapSweep() {
        var rng = SplitMix(seed: 0x7070)
        let seeds: [[UInt8]] = [
            Array("PROXY TCP6 2001:db8::10 ::ffff:1.2.3.4 40000 80\r\n".utf8),
            Array("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n".utf8),
            proxyV2("2001:db8::10", 40000, "2001:db8:1::1", 80, uniqueID: 7, crc32c: true),
            proxyV2("192.0.2.10", 40000, "198.51.100.1", 443, crc32c: true),
        ]
        func check(_ bytes: [UInt8]) {
            let framing = detect(bytes)
            let (result, header) = parseProxy(bytes)
            switch result {
            case .v1(let n), .v2(let n):
                #expect(n <= bytes.count && header.length == n)
                #expect(framing == result)
                if header.uniqueIDOffset >= 0 { #expect(header.uniqueIDOffset + header.uniqueIDLength <= n) }
            case .invalid:
                #expect(header.version == 0)
            case .none, .incomplete:
                #expect(framing == result && header.version == 0)
            }
        }
        for seed in seeds {
            for n in 0...seed.count { check(Array(seed[..<n])) }
            for i in 0..<seed.count {
                for value: UInt8 in [0, 0x0A, 0x0D, 0x20, 0x3A, 0x2E, 0xFF, UInt8.random(in: 0...255, using: &rng)] {
                    var b = seed
                    b[i] = value
                    check(b)
                }
            }
        }
        for _ in 0..<500 {
            let tail = (0..<Int.random(in: 0...80, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            check(signature + [0x21] + tail)
            check(Array("PROXY ".utf8) + tail)
        }
    }
}
