// Every public packet writer of SluicePacket on its own, without its callers' room checks: offsets past
// either end, lengths that overflow, summaries and parses pointing outside the frame, buffers too small.
// A trap takes the whole worker down, so each must return its failure value with the buffer as it was,
// and still write the right bytes when the arguments are sound.

import SluicePacket
import SluiceTestKit
import Testing

struct WriterBoundsTests {
    /// Fills the bytes a writer must not touch, so that a stray write shows.
    static let canary: UInt8 = 0xEE
    /// Spare bytes after a frame for writers that may grow it.
    static let tailroom = 64
    static let sourceMAC: UInt64 = 0x0200_0000_00A1
    static let destinationMAC: UInt64 = 0x0200_0000_00C1
    static let client = "192.0.2.10"
    static let service = "198.51.100.1"
    static let client6 = "2001:db8::10"
    static let clientPort: UInt16 = 40000
    static let servicePort: UInt16 = 80
    static let payload: [UInt8] = Array("GET / HTTP/1.1\r\n".utf8)
    /// Offsets no buffer can hold, on both sides, and the ones whose sums wrap.
    static let wildOffsets = [-1, Int.min, Int.max, Int.max - 1]
    /// Offsets in the fixed TCP header.
    static let destinationPortOffset = 2
    static let sequenceOffset = 4
    static let acknowledgementOffset = 8
    static let flagsOffset = 13

    /// `body` run on a mutable span over `bytes`; the span cannot outlive the call, so the tests read
    /// the array again afterwards.
    static func onSpan<R>(_ bytes: inout [UInt8], _ body: (inout MutableSpan<UInt8>) -> R) -> R {
        var span = bytes.mutableSpan
        return body(&span)
    }

    /// A client → service IPv4 TCP segment.
    static func segment(flags: UInt8 = TCPFlag.ack, options: [TCPOptionSpec] = [], payload: [UInt8] = []) -> [UInt8] {
        PacketBuilder().ethernet(src: destinationMAC, dst: sourceMAC).ipv4(src: client, dst: service)
            .tcp(sport: clientPort, dport: servicePort, flags: flags, options: options, payload: payload).build()
    }

    /// The TCP checksum field of the header at `l4`, which every option rewrite updates.
    static func checksumField(_ l4: Int) -> Range<Int> {
        let start = l4 + TCPOptions.checksumOffset
        return start..<(start + MemoryLayout<UInt16>.size)
    }

    /// `info` with one change.
    static func changed(_ info: PacketInfo, _ change: (inout PacketInfo) -> Void) -> PacketInfo {
        var copy = info
        change(&copy)
        return copy
    }

    /// Whether `after` equals `before` everywhere outside the byte ranges listed.
    static func unchangedOutside(_ ranges: [Range<Int>], before: [UInt8], after: [UInt8]) -> Bool {
        before.count == after.count
            && before.indices.allSatisfy { i in ranges.contains { $0.contains(i) } || before[i] == after[i] }
    }

    @Test func setAddressesRefusesAFrameShorterThanTheAddresses() {
        for size in [0, 1, EthernetHeader.addressesLength - 1] {
            var buffer = [UInt8](repeating: Self.canary, count: size)
            let written = Self.onSpan(&buffer) {
                EthernetHeader.setAddresses(&$0, destination: Self.destinationMAC, source: Self.sourceMAC)
            }
            #expect(!written, "size \(size)")
            #expect(buffer.allSatisfy { $0 == Self.canary }, "size \(size)")
        }
        var buffer = [UInt8](repeating: Self.canary, count: EthernetHeader.length)
        let written = Self.onSpan(&buffer) {
            EthernetHeader.setAddresses(&$0, destination: Self.destinationMAC, source: Self.sourceMAC)
        }
        #expect(written)
        #expect(EthernetHeader.destination(buffer.span) == Self.destinationMAC)
        #expect(EthernetHeader.source(buffer.span) == Self.sourceMAC)
        #expect(buffer[EthernetHeader.addressesLength...].allSatisfy { $0 == Self.canary })
    }

    @Test func swapAddressesRefusesAFrameShorterThanTheAddresses() {
        for size in [0, 1, EthernetHeader.addressesLength / 2, EthernetHeader.addressesLength - 1] {
            let original = (0..<size).map { UInt8(truncatingIfNeeded: $0 + 1) }
            var buffer = original
            let swapped = Self.onSpan(&buffer) { EthernetHeader.swapAddresses(&$0) }
            #expect(!swapped, "size \(size)")
            #expect(buffer == original, "size \(size)")
        }
        let original = Self.segment()
        var buffer = original
        let swapped = Self.onSpan(&buffer) { EthernetHeader.swapAddresses(&$0) }
        #expect(swapped)
        #expect(EthernetHeader.destination(buffer.span) == EthernetHeader.source(original.span))
        #expect(EthernetHeader.source(buffer.span) == EthernetHeader.destination(original.span))
        #expect(buffer[EthernetHeader.addressesLength...] == original[EthernetHeader.addressesLength...])
    }

    @Test func icmpErrorRefusesALayoutOutsideTheFrame() {
        let frame = Self.segment()
        let (_, info) = parse(frame)
        let capacity = frame.count + Self.tailroom
        // (info, length, tailroom): the parse scrambled, the length outside the buffer, no room to grow.
        let cases: [(PacketInfo, Int, Int)] = [
            (Self.changed(info) { $0.ipEnd = Int.min }, frame.count, Self.tailroom),
            (Self.changed(info) { $0.ipEnd = frame.count + 1 }, frame.count, Self.tailroom),
            (Self.changed(info) { $0.l3Offset = Int.max }, frame.count, Self.tailroom),
            (Self.changed(info) { $0.l3Offset = -1 }, frame.count, Self.tailroom),
            (Self.changed(info) { $0.ipHeaderLength = Int.max }, frame.count, Self.tailroom),
            (Self.changed(info) { $0.ipHeaderLength = Int.min }, frame.count, Self.tailroom),
            (info, capacity + 1, Self.tailroom),
            (info, -1, Self.tailroom),
            (info, frame.count, 0),
        ]
        for (index, (layout, length, tailroom)) in cases.enumerated() {
            let original = frame + [UInt8](repeating: Self.canary, count: tailroom)
            var buffer = original
            var newLength = length
            let built = Self.onSpan(&buffer) {
                ICMPError.build(&$0, length: &newLength, info: layout, kind: .timeExceeded, from: ip(Self.service))
            }
            #expect(!built && newLength == length && buffer == original, "case \(index)")
        }
        var buffer = frame + [UInt8](repeating: Self.canary, count: Self.tailroom)
        var length = frame.count
        let built = Self.onSpan(&buffer) {
            ICMPError.build(&$0, length: &length, info: info, kind: .timeExceeded, from: ip(Self.service))
        }
        #expect(built)
        let datagram = frame.count - info.l3Offset
        let ipv4AndICMPHeaders = 28
        #expect(length == info.l3Offset + ipv4AndICMPHeaders + datagram)
        #expect(FrameChecker.problem(Array(buffer[..<length])) == nil)
        #expect(buffer[length...].allSatisfy { $0 == Self.canary })
    }

    @Test func proxyV1RefusesOffsetsWithoutRoomForTheLine() {
        let source = ip(Self.client)
        let destination = ip(Self.service)
        let line = Array("PROXY TCP4 192.0.2.10 198.51.100.1 40000 80\r\n".utf8)
        let total = ProxyProtocolV1.length(
            source: source, sourcePort: Self.clientPort, destination: destination, destinationPort: Self.servicePort)
        #expect(total == line.count)
        let margin = 8
        let original = [UInt8](repeating: Self.canary, count: total + margin)
        for at in Self.wildOffsets + [margin + 1, original.count] {
            var buffer = original
            let n = Self.onSpan(&buffer) {
                ProxyProtocolV1.write(
                    into: &$0, at: at, source: source, sourcePort: Self.clientPort, destination: destination,
                    destinationPort: Self.servicePort)
            }
            #expect(n == 0 && buffer == original, "at \(at)")
        }
        var buffer = original
        let n = Self.onSpan(&buffer) {
            ProxyProtocolV1.write(
                into: &$0, at: margin, source: source, sourcePort: Self.clientPort, destination: destination,
                destinationPort: Self.servicePort)
        }
        #expect(n == total)
        #expect(Array(buffer[margin...]) == line)
        #expect(buffer[..<margin].allSatisfy { $0 == Self.canary })
    }

    @Test func proxyV1UnknownRefusesOffsetsWithoutRoomForTheLine() {
        let line = Array("PROXY UNKNOWN\r\n".utf8)
        let margin = 8
        let original = [UInt8](repeating: Self.canary, count: ProxyProtocolV1.unknownLength + margin)
        for at in Self.wildOffsets + [margin + 1, original.count] {
            var buffer = original
            let n = Self.onSpan(&buffer) { ProxyProtocolV1.writeUnknown(into: &$0, at: at) }
            #expect(n == 0 && buffer == original, "at \(at)")
        }
        var empty: [UInt8] = []
        let intoNothing = Self.onSpan(&empty) { ProxyProtocolV1.writeUnknown(into: &$0, at: 0) }
        #expect(intoNothing == 0)
        var buffer = original
        let n = Self.onSpan(&buffer) { ProxyProtocolV1.writeUnknown(into: &$0, at: margin) }
        #expect(n == line.count)
        #expect(Array(buffer[margin...]) == line)
        #expect(buffer[..<margin].allSatisfy { $0 == Self.canary })
    }

    @Test func proxyV2RefusesOffsetsWithoutRoomForTheHeader() {
        let source = ip(Self.client6)
        let destination = ip(Self.service)
        let uniqueID: UInt64 = 0x0102_0304_0506_0708
        let total = ProxyProtocolV2.length(v6: true, uniqueID: uniqueID, crc32c: true)
        let margin = 8
        let original = [UInt8](repeating: Self.canary, count: total + margin)
        for at in Self.wildOffsets + [margin + 1, original.count] {
            var buffer = original
            let n = Self.onSpan(&buffer) {
                ProxyProtocolV2.write(
                    into: &$0, at: at, source: source, sourcePort: Self.clientPort, destination: destination,
                    destinationPort: Self.servicePort, uniqueID: uniqueID, crc32c: true)
            }
            #expect(n == 0 && buffer == original, "at \(at)")
        }
        var buffer = original
        let n = Self.onSpan(&buffer) {
            ProxyProtocolV2.write(
                into: &$0, at: margin, source: source, sourcePort: Self.clientPort, destination: destination,
                destinationPort: Self.servicePort, uniqueID: uniqueID, crc32c: true)
        }
        #expect(n == total)
        var header = ProxyProtocolHeader()
        let parsed = ProxyProtocol.parse(buffer.span, from: margin, count: total, into: &header)
        #expect(parsed == .v2(length: total))
        #expect(header.hasCRC32C && header.source == source && header.sourcePort == Self.clientPort)
        #expect(buffer[..<margin].allSatisfy { $0 == Self.canary })
    }

    @Test func synAckRefusesALayoutOutsideTheFrame() {
        let isn: UInt32 = 0x1234_5678
        let syn = PacketBuilder().ethernet(src: Self.destinationMAC, dst: Self.sourceMAC)
            .ipv4(src: Self.client, dst: Self.service)
            .tcp(sport: Self.clientPort, dport: Self.servicePort, seq: isn, flags: TCPFlag.syn).build()
        let (_, info) = parse(syn)
        let capacity = syn.count + Self.tailroom
        // The last case has no tailroom, and the answer is longer: it adds the MSS option the SYN lacks.
        let cases: [(PacketInfo, Int, Int)] = [
            (Self.changed(info) { $0.l3Offset = Int.max }, syn.count, Self.tailroom),
            (Self.changed(info) { $0.l3Offset = -1 }, syn.count, Self.tailroom),
            (Self.changed(info) { $0.l4Offset = Int.min }, syn.count, Self.tailroom),
            (Self.changed(info) { $0.ipEnd = Int.min }, syn.count, Self.tailroom),
            (Self.changed(info) { $0.ipHeaderLength = Int.max }, syn.count, Self.tailroom),
            (Self.changed(info) { $0.tcpHeaderLength = Int.max }, syn.count, Self.tailroom),
            (info, capacity + 1, Self.tailroom),
            (info, -1, Self.tailroom),
            (info, syn.count, 0),
        ]
        for (index, (layout, length, tailroom)) in cases.enumerated() {
            let original = syn + [UInt8](repeating: Self.canary, count: tailroom)
            var buffer = original
            var newLength = length
            let answered = Self.onSpan(&buffer) {
                SynAck.answer(&$0, length: &newLength, info: layout, cookie: 1, parameters: SynAckParameters())
            }
            #expect(!answered && newLength == length && buffer == original, "case \(index)")
        }
        var buffer = syn + [UInt8](repeating: Self.canary, count: Self.tailroom)
        var length = syn.count
        let answered = Self.onSpan(&buffer) {
            SynAck.answer(&$0, length: &length, info: info, cookie: 1, parameters: SynAckParameters())
        }
        #expect(answered)
        let mssOption = 4
        #expect(length == syn.count + mssOption)
        let answer = Array(buffer[..<length])
        #expect(FrameChecker.problem(answer) == nil)
        #expect(answer[info.l4Offset + Self.flagsOffset] == TCPFlag.syn | TCPFlag.ack)
        #expect(answer.span.u32(info.l4Offset + Self.acknowledgementOffset) == isn &+ 1)
        #expect(buffer[length...].allSatisfy { $0 == Self.canary })
    }

    @Test func clampMSSRefusesASummaryOutsideTheOptions() {
        let frame = Self.segment(flags: TCPFlag.syn, options: [.mss(1460), .nop, .windowScale(7)])
        let (_, info) = parse(frame)
        let l4 = info.l4Offset
        let mssOffset = info.tcpOptions.mssOffset
        let mssLength = MemoryLayout<UInt16>.size
        // Clamping to 1 would change any value a stray offset reads, so a refusal is the guard's doing.
        let lowest: UInt16 = 1
        let cases: [(tcpOffset: Int, mssOffset: Int)] = [
            (l4, Int.max), (l4, Int.min), (Int.max - 8, Int.max), (-100, mssOffset), (Int.min, 0),
            (l4, frame.count - 1), (l4, l4 + Self.destinationPortOffset), (frame.count, mssOffset), (l4, -1),
        ]
        for (tcpOffset, offset) in cases {
            var summary = info.tcpOptions
            summary.mssOffset = offset
            var buffer = frame
            let clamped = Self.onSpan(&buffer) {
                TCPOptions.clampMSS(&$0, tcpOffset: tcpOffset, summary: summary, to: lowest)
            }
            #expect(!clamped && buffer == frame, "tcpOffset \(tcpOffset), mssOffset \(offset)")
        }
        let pathMSS: UInt16 = 1400
        var buffer = frame
        let clamped = Self.onSpan(&buffer) {
            TCPOptions.clampMSS(&$0, tcpOffset: l4, summary: info.tcpOptions, to: pathMSS)
        }
        #expect(clamped)
        #expect(buffer.span.u16(mssOffset) == pathMSS)
        #expect(FrameChecker.problem(buffer) == nil)
        #expect(
            Self.unchangedOutside(
                [mssOffset..<(mssOffset + mssLength), Self.checksumField(l4)], before: frame, after: buffer))
    }

    @Test func translateSACKRefusesASummaryOutsideTheOptions() {
        let edges: [UInt32] = [1000, 2000, 3000, 4000]
        let delta: UInt32 = 0x100
        let frame = Self.segment(options: [.nop, .nop, .sack([(edges[0], edges[1]), (edges[2], edges[3])])])
        let (_, info) = parse(frame)
        let l4 = info.l4Offset
        let sackOffset = info.tcpOptions.sackOffset
        let blocks = info.tcpOptions.sackBlockCount
        let halfABlockBeforeTheEnd = frame.count - TCPOptions.sackBlockLength / 2
        let cases: [(tcpOffset: Int, sackOffset: Int, blocks: Int)] = [
            (l4, sackOffset, Int.max), (l4, sackOffset, Int.max / TCPOptions.sackBlockLength + 1),
            (l4, Int.max, 1), (l4, Int.min, 1), (-1000, 0, 1), (Int.min, sackOffset, 1), (Int.max, sackOffset, 1),
            (l4, halfABlockBeforeTheEnd, 1), (l4, l4 + Self.sequenceOffset, 1), (l4, sackOffset, 0),
            (l4, sackOffset, -1),
            (l4, sackOffset, blocks + 2),
        ]
        for (tcpOffset, offset, count) in cases {
            var summary = info.tcpOptions
            summary.sackOffset = offset
            summary.sackBlockCount = count
            var buffer = frame
            let translated = Self.onSpan(&buffer) {
                TCPOptions.translateSACK(&$0, tcpOffset: tcpOffset, summary: summary, delta: delta)
            }
            #expect(!translated && buffer == frame, "tcpOffset \(tcpOffset), sackOffset \(offset), blocks \(count)")
        }
        var buffer = frame
        let translated = Self.onSpan(&buffer) {
            TCPOptions.translateSACK(&$0, tcpOffset: l4, summary: info.tcpOptions, delta: delta)
        }
        #expect(translated)
        let edgeLength = MemoryLayout<UInt32>.size
        let translatedEdges = (0..<edges.count).map { buffer.span.u32(sackOffset + edgeLength * $0) }
        #expect(translatedEdges == edges.map { $0 + delta })
        #expect(FrameChecker.problem(buffer) == nil)
        let sackEnd = sackOffset + blocks * TCPOptions.sackBlockLength
        #expect(Self.unchangedOutside([sackOffset..<sackEnd, Self.checksumField(l4)], before: frame, after: buffer))
    }

    @Test func nopOutRefusesARangeOutsideTheOptions() {
        let frame = Self.segment(flags: TCPFlag.syn, options: [.mss(1460), .timestamps(val: 1, ecr: 0)])
        let (_, info) = parse(frame)
        let l4 = info.l4Offset
        let timestampLength = 10
        let start = info.tcpOptions.timestampOffset - TCPOptions.optionPrefixLength
        let cases: [(offset: Int, length: Int, tcpOffset: Int)] = [
            (0, 1, -100), (Int.max, 1, l4), (start, Int.max, l4), (start, Int.min, l4), (start, -1, l4),
            (start, timestampLength, Int.max), (start, timestampLength, Int.min), (l4 + Self.sequenceOffset, 2, l4),
            (frame.count, 1, l4), (frame.count - 1, 2, l4), (Int.min, 1, Int.min),
        ]
        for (offset, length, tcpOffset) in cases {
            var buffer = frame
            let done = Self.onSpan(&buffer) {
                TCPOptions.nopOut(&$0, offset: offset, length: length, tcpOffset: tcpOffset)
            }
            #expect(!done && buffer == frame, "offset \(offset), length \(length), tcpOffset \(tcpOffset)")
        }
        var buffer = frame
        let done = Self.onSpan(&buffer) {
            TCPOptions.nopOut(&$0, offset: start, length: timestampLength, tcpOffset: l4)
        }
        #expect(done)
        #expect(buffer[start..<(start + timestampLength)].allSatisfy { $0 == TCPOptions.noOperation })
        #expect(FrameChecker.problem(buffer) == nil)
        #expect(parse(buffer).1.tcpOptions.timestampOffset == -1)
        let stripped = start..<(start + timestampLength)
        #expect(Self.unchangedOutside([stripped, Self.checksumField(l4)], before: frame, after: buffer))
    }

    @Test func payloadPrefixRefusesALayoutOutsideTheFrame() {
        let frame = Self.segment(payload: Self.payload)
        let (_, info) = parse(frame)
        let capacity = frame.count + Self.tailroom
        let prefix = Array("PREF".utf8)
        // (info, count, length): offsets that wrap when a header length is added, counts and a length
        // that the buffer cannot hold.
        let cases: [(PacketInfo, Int, Int)] = [
            (Self.changed(info) { $0.l3Offset = Int.max - 1 }, prefix.count, frame.count),
            (Self.changed(info) { $0.l4Offset = Int.max - 5 }, prefix.count, frame.count),
            (Self.changed(info) { $0.l3Offset = -1 }, prefix.count, frame.count),
            (Self.changed(info) { $0.payloadOffset = frame.count + 1 }, prefix.count, frame.count),
            (Self.changed(info) { $0.ipEnd = Int.min }, prefix.count, frame.count),
            (info, Int.max, frame.count),
            (info, Int.min, frame.count),
            (info, Self.tailroom + 1, frame.count),
            (info, prefix.count, capacity + 1),
        ]
        let original = frame + [UInt8](repeating: Self.canary, count: Self.tailroom)
        for (index, (layout, count, length)) in cases.enumerated() {
            var buffer = original
            var newLength = length
            var called = false
            let inserted = Self.onSpan(&buffer) {
                TCPPayloadPrefix.insert(count: count, into: &$0, length: &newLength, info: layout) { _, _ in
                    called = true
                    return count
                }
            }
            #expect(!inserted && !called && newLength == length && buffer == original, "case \(index)")
        }
        var buffer = original
        var length = frame.count
        let inserted = Self.onSpan(&buffer) {
            TCPPayloadPrefix.insert(count: prefix.count, into: &$0, length: &length, info: info) { span, at in
                for (i, byte) in prefix.enumerated() { span[at + i] = byte }
                return prefix.count
            }
        }
        #expect(inserted)
        #expect(length == frame.count + prefix.count)
        #expect(FrameChecker.problem(Array(buffer[..<length])) == nil)
        #expect(Array(buffer[info.payloadOffset..<length]) == prefix + Self.payload)
        #expect(buffer[length...].allSatisfy { $0 == Self.canary })
    }

    @Test func segmentBuilderRefusesABufferTooSmall() {
        var syn = TCPSegmentBuilder.Segment(
            sourceMAC: Self.sourceMAC, destinationMAC: Self.destinationMAC, source: ip(Self.client6),
            destination: ip("2001:db8:1::1"), sourcePort: Self.clientPort, destinationPort: Self.servicePort,
            sequence: 1, acknowledgement: 0, flags: TCPFlag.syn, window: 65535)
        syn.mss = 1440
        syn.windowScale = 7
        syn.timestamps = true
        syn.sackPermitted = true
        let ipv6Header = 40
        let tcpHeaderWithOptions = 40
        let needed = EthernetHeader.length + ipv6Header + tcpHeaderWithOptions
        var mixed = syn
        mixed.destination = ip(Self.service)
        let cases: [(TCPSegmentBuilder.Segment, Int)] = [
            (syn, 0), (syn, EthernetHeader.addressesLength - 1), (syn, EthernetHeader.length), (syn, needed - 1),
            (mixed, needed + Self.tailroom),
        ]
        for (segment, size) in cases {
            let original = [UInt8](repeating: Self.canary, count: size)
            var buffer = original
            let n = Self.onSpan(&buffer) { TCPSegmentBuilder.build(&$0, segment) }
            #expect(n == 0 && buffer == original, "size \(size)")
        }
        var buffer = [UInt8](repeating: Self.canary, count: needed + Self.tailroom)
        let n = Self.onSpan(&buffer) { TCPSegmentBuilder.build(&$0, syn) }
        #expect(n == needed)
        #expect(FrameChecker.problem(Array(buffer[..<n])) == nil)
        #expect(buffer[n...].allSatisfy { $0 == Self.canary })
    }

    @Test(arguments: [false, true])
    func toaWriteRefusesOffsetsWithoutRoomForTheOption(v6: Bool) {
        let address = ip(v6 ? Self.client6 : Self.client)
        let n = TOA.length(for: address)
        let margin = 4
        let original = [UInt8](repeating: Self.canary, count: n + margin)
        for at in Self.wildOffsets + [margin + 1, original.count] {
            var buffer = original
            let written = Self.onSpan(&buffer) { TOA.write(into: &$0, at: at, port: Self.clientPort, address: address) }
            #expect(written == 0 && buffer == original, "at \(at)")
        }
        var buffer = original
        let written = Self.onSpan(&buffer) { TOA.write(into: &$0, at: margin, port: Self.clientPort, address: address) }
        #expect(written == n)
        #expect(buffer[margin] == TOA.defaultKind && Int(buffer[margin + 1]) == n)
        #expect(buffer.span.u16(margin + TCPOptions.optionPrefixLength) == Self.clientPort)
        #expect(buffer[..<margin].allSatisfy { $0 == Self.canary })
    }

    @Test func toaInsertRefusesALayoutOutsideTheFrame() {
        let frame = Self.segment(options: [.nop, .nop, .timestamps(val: 1, ecr: 2)], payload: Self.payload)
        let (_, info) = parse(frame)
        let capacity = frame.count + Self.tailroom
        let address = ip(Self.client)
        let mtu = 1500
        // An end so low that subtracting the header length wraps, with the header past the buffer.
        let wrapped = Self.changed(info) {
            $0.ipEnd = Int.min + 10
            $0.l4Offset = capacity * 2
        }
        // (info, length, tailroom, mtu, result): offsets that wrap or lie past the buffer, a length outside
        // it, and no room (the timestamps are never pruned).
        let cases: [(PacketInfo, Int, Int, Int, TOAInsertResult)] = [
            (Self.changed(info) { $0.l3Offset = Int.max - 1 }, frame.count, Self.tailroom, mtu, .malformed),
            (wrapped, frame.count, Self.tailroom, mtu, .malformed),
            (Self.changed(info) { $0.l3Offset = -1 }, frame.count, Self.tailroom, mtu, .malformed),
            (Self.changed(info) { $0.l4Offset = Int.max }, frame.count, Self.tailroom, mtu, .malformed),
            (Self.changed(info) { $0.tcpHeaderLength = Int.min }, frame.count, Self.tailroom, mtu, .malformed),
            (Self.changed(info) { $0.ipEnd = frame.count + 1 }, frame.count, Self.tailroom, mtu, .malformed),
            (info, capacity + 1, Self.tailroom, mtu, .malformed),
            (info, frame.count, 0, mtu, .noRoom),
            (info, frame.count, Self.tailroom, 0, .noRoom),
            (info, frame.count, Self.tailroom, Int.min, .noRoom),
        ]
        for (index, (layout, length, tailroom, pathMTU, expected)) in cases.enumerated() {
            let original = frame + [UInt8](repeating: Self.canary, count: tailroom)
            var buffer = original
            var newLength = length
            var newInfo = layout
            let result = Self.onSpan(&buffer) {
                TOA.insert(
                    into: &$0, length: &newLength, info: &newInfo, port: Self.clientPort, address: address, mtu: pathMTU
                )
            }
            #expect(result == expected, "case \(index)")
            #expect(newLength == length && newInfo == layout && buffer == original, "case \(index)")
        }
        var buffer = frame + [UInt8](repeating: Self.canary, count: Self.tailroom)
        var length = frame.count
        var after = info
        let result = Self.onSpan(&buffer) {
            TOA.insert(into: &$0, length: &length, info: &after, port: Self.clientPort, address: address, mtu: mtu)
        }
        #expect(result == .inserted)
        #expect(length == frame.count + TOA.lengthV4)
        #expect(FrameChecker.problem(Array(buffer[..<length])) == nil)
        #expect(after.tcpOptions.toaOffset == info.l4Offset + TCPOptions.fixedHeaderLength)
        #expect(buffer[length...].allSatisfy { $0 == Self.canary })
    }
}
