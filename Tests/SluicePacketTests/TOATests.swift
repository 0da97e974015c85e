import SluicePacket
import SluiceTestKit
import Testing

/// The result of one `TOA.insert` on a copy of `frame` placed in a buffer with `tailroom` spare bytes.
struct Insertion {
    var result: TOAInsertResult
    var frame: [UInt8]
    var before: PacketInfo
    var after: PacketInfo
}

func insertTOA(
    _ frame: [UInt8], tailroom: Int = 256, port: UInt16, address: IPAddress, kind: UInt8 = 254, mtu: Int = 1500
) -> Insertion {
    let (reason, info) = parse(frame)
    #expect(reason == nil)
    var buffer = frame + [UInt8](repeating: 0xCC, count: tailroom)
    var length = frame.count
    var after = info
    let result: TOAInsertResult
    do {
        var span = buffer.mutableSpan
        result = TOA.insert(
            into: &span, length: &length, info: &after, port: port, address: address, kind: kind, mtu: mtu)
    }
    return Insertion(result: result, frame: Array(buffer[..<length]), before: info, after: after)
}

/// The TOA option's wire bytes, built independently of the library.
func toaOption(port: UInt16, address: IPAddress, kind: UInt8 = 254) -> TCPOptionSpec {
    var bytes: [UInt8] = [UInt8(port >> 8), UInt8(port & 0xFF)]
    if address.isV6 {
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(address.high >> UInt64(shift) & 0xFF)) }
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(address.low >> UInt64(shift) & 0xFF)) }
    } else {
        for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(address.v4 >> UInt32(shift) & 0xFF)) }
    }
    return .raw(kind: kind, bytes: bytes)
}

/// The options of the TCP header at `l4` as (kind, bytes) pairs, NOP and EOL excluded.
func optionList(_ frame: [UInt8], l4: Int) -> [[UInt8]] {
    let end = l4 + Int(frame[l4 + 12] >> 4) * 4
    var o = l4 + 20
    var out: [[UInt8]] = []
    while o < end {
        if frame[o] == 0 { break }
        if frame[o] == 1 {
            o += 1
            continue
        }
        let length = Int(frame[o + 1])
        out.append(Array(frame[o..<(o + length)]))
        o += length
    }
    return out
}

/// Checks what every successful insertion must give: a frame the parser accepts whose parse equals
/// the updated info, valid checksums (incremental == full), our option first, payload unchanged.
func expectWellFormed(
    _ r: Insertion, original: [UInt8], port: UInt16, address: IPAddress, kind: UInt8 = 254, mtu: Int = 1500,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let (reason, info) = parse(r.frame)
    #expect(reason == nil, sourceLocation: sourceLocation)
    #expect(info == r.after, "info not updated to the new layout", sourceLocation: sourceLocation)
    #expect(FrameChecker.problem(r.frame) == nil, sourceLocation: sourceLocation)
    #expect(info.tcpHeaderLength <= 60 && info.ipEnd - info.l3Offset <= mtu, sourceLocation: sourceLocation)
    if kind == TCPOptions.toa {
        #expect(info.tcpOptions.toaOffset == info.l4Offset + 20, sourceLocation: sourceLocation)
    }
    let expected = toaOption(port: port, address: address, kind: kind).encoded
    let options = optionList(r.frame, l4: info.l4Offset)
    #expect(options.first == expected, sourceLocation: sourceLocation)
    #expect(options.dropFirst().allSatisfy { $0[0] != kind }, "a client TOA survived", sourceLocation: sourceLocation)
    let payload = Array(original[r.before.payloadOffset..<(r.before.payloadOffset + r.before.payloadLength)])
    #expect(
        Array(r.frame[info.payloadOffset..<(info.payloadOffset + info.payloadLength)]) == payload,
        sourceLocation: sourceLocation)
    // Everything before the options is the original header apart from the lengths and checksums.
    #expect(r.frame[0..<14] == original[0..<14], sourceLocation: sourceLocation)
    #expect(r.frame[(info.l4Offset)..<(info.l4Offset + 12)] == original[(info.l4Offset)..<(info.l4Offset + 12)])
}

@Suite struct TOATests {
    static let client4 = ip("192.0.2.10")
    static let client6 = ip("2001:db8::10")
    static let payload: [UInt8] = Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)

    func segment(
        v6: Bool = false, vlan: UInt16? = nil, options: [TCPOptionSpec] = [], payload: [UInt8] = TOATests.payload
    ) -> PacketBuilder {
        let b = PacketBuilder().ethernet(vlan: vlan)
        let ipb =
            v6 ? b.ipv6(src: "2001:db8:2::5", dst: "2001:db8:3::7") : b.ipv4(src: "10.1.0.5", dst: "10.2.0.7", id: 77)
        return ipb.tcp(sport: 5001, dport: 8080, seq: 0xFFFF_FFF0, ack: 0x1234_5678, options: options, payload: payload)
    }

    // MARK: write

    @Test func writeLayouts() {
        var buffer = [UInt8](repeating: 0xEE, count: 24)
        do {
            var s = buffer.mutableSpan
            #expect(TOA.write(into: &s, at: 1, port: 40000, address: Self.client4) == 8)
        }
        #expect(Array(buffer[0..<10]) == [0xEE, 254, 8, 0x9C, 0x40, 192, 0, 2, 10, 0xEE])
        do {
            var s = buffer.mutableSpan
            #expect(TOA.write(into: &s, at: 2, port: 443, address: Self.client6, kind: 253) == 20)
        }
        #expect(
            Array(buffer[2..<22]) == [
                253, 20, 0x01, 0xBB, 0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
            ])
        #expect(TOA.length(for: Self.client4) == 8 && TOA.length(for: Self.client6) == 20)
        let before = buffer
        do {
            var s = buffer.mutableSpan
            #expect(TOA.write(into: &s, at: 5, port: 1, address: Self.client6) == 0)
            #expect(TOA.write(into: &s, at: 17, port: 1, address: Self.client4) == 0)
            #expect(TOA.write(into: &s, at: -1, port: 1, address: Self.client4) == 0)
            #expect(TOA.write(into: &s, at: 16, port: 1, address: Self.client4) == 8)
        }
        #expect(buffer[..<16] == before[..<16])
    }

    // MARK: insertion with room

    /// No options: the result is byte for byte what PacketBuilder makes with the option in place
    /// (its checksums are computed from scratch, independently of the library).
    @Test(arguments: [false, true], [false, true])
    func noOptions(v6Packet: Bool, v6Client: Bool) {
        let client = v6Client ? Self.client6 : Self.client4
        for vlan: UInt16? in [nil, 12] {
            let original = segment(v6: v6Packet, vlan: vlan).build()
            let r = insertTOA(original, port: 40000, address: client)
            #expect(r.result == .inserted)
            #expect(
                r.frame == segment(v6: v6Packet, vlan: vlan, options: [toaOption(port: 40000, address: client)]).build()
            )
            expectWellFormed(r, original: original, port: 40000, address: client)
        }
    }

    @Test(arguments: [false, true], [false, true])
    func timestampsOnly(v6Packet: Bool, v6Client: Bool) {
        let client = v6Client ? Self.client6 : Self.client4
        let ts: [TCPOptionSpec] = [.nop, .nop, .timestamps(val: 0xAABB_CCDD, ecr: 0x0102_0304)]
        let original = segment(v6: v6Packet, options: ts).build()
        let r = insertTOA(original, port: 1, address: client)
        #expect(r.result == .inserted)
        #expect(r.frame == segment(v6: v6Packet, options: [toaOption(port: 1, address: client)] + ts).build())
        expectWellFormed(r, original: original, port: 1, address: client)
    }

    @Test func emptyPayloadAndOddPayload() {
        for payload in [[], [0x42], [1, 2, 3]] as [[UInt8]] {
            let original = segment(options: [.nop, .nop, .timestamps(val: 1, ecr: 2)], payload: payload).build()
            let r = insertTOA(original, port: 9, address: Self.client4)
            #expect(r.result == .inserted)
            expectWellFormed(r, original: original, port: 9, address: Self.client4)
        }
    }

    /// Ethernet padding after a short datagram is dropped, not moved.
    @Test func ethernetPaddingIsDropped() {
        let original = segment(payload: []).padding(6).build()
        let r = insertTOA(original, port: 7, address: Self.client4)
        #expect(r.result == .inserted)
        #expect(r.frame == segment(options: [toaOption(port: 7, address: Self.client4)], payload: []).build())
    }

    /// A client-sent option of the TOA kind is replaced with NOPs (docs/protocol.md pitfall 14); ours comes first.
    @Test(arguments: [UInt8(254), 253])
    func clientTOAIsNeutralised(kind: UInt8) {
        let spoofed: TCPOptionSpec = .raw(kind: kind, bytes: [0, 80, 6, 6, 6, 6])
        let ts: TCPOptionSpec = .timestamps(val: 5, ecr: 6)
        let original = segment(options: [spoofed, .nop, .nop, ts]).build()
        let r = insertTOA(original, port: 2, address: Self.client4, kind: kind)
        #expect(r.result == .inserted)
        let toa = toaOption(port: 2, address: Self.client4, kind: kind)
        #expect(r.frame == segment(options: [toa, .bytes([UInt8](repeating: 1, count: 8)), .nop, .nop, ts]).build())
        expectWellFormed(r, original: original, port: 2, address: Self.client4, kind: kind)
    }

    /// Another kind is not ours to strip: a 253 option stays when inserting kind 254.
    @Test func otherKindsAreKept() {
        let other: TCPOptionSpec = .raw(kind: 253, bytes: [0, 80, 6, 6, 6, 6])
        let original = segment(options: [other]).build()
        let r = insertTOA(original, port: 2, address: Self.client4)
        #expect(r.result == .inserted)
        #expect(r.frame == segment(options: [toaOption(port: 2, address: Self.client4), other]).build())
    }

    // MARK: pruning

    /// TS + 3 SACK blocks fill the 40 option bytes: SACK blocks go, the last first, until ours fits.
    @Test func timestampsAndSACK() {
        let ts: TCPOptionSpec = .timestamps(val: 100, ecr: 200)
        let blocks: [(UInt32, UInt32)] = [(1000, 2000), (3000, 4000), (5000, 6000)]
        let original = segment(options: [.nop, .nop, ts, .nop, .nop, .sack(blocks)]).build()
        // IPv4 client: 8 bytes; TS (10) + 2 blocks (18) = 28 fit in the 32 left.
        let r4 = insertTOA(original, port: 3, address: Self.client4)
        #expect(r4.result == .pruned(removedBytes: 12))
        #expect(
            r4.frame
                == segment(options: [toaOption(port: 3, address: Self.client4), ts, .sack(Array(blocks[..<2]))]).build()
        )
        expectWellFormed(r4, original: original, port: 3, address: Self.client4)
        // IPv6 client: 20 bytes; only TS + 1 block (20) fit.
        let r6 = insertTOA(original, port: 3, address: Self.client6)
        #expect(r6.result == .pruned(removedBytes: 20))
        #expect(
            r6.frame
                == segment(options: [toaOption(port: 3, address: Self.client6), ts, .sack(Array(blocks[..<1]))]).build()
        )
        expectWellFormed(r6, original: original, port: 3, address: Self.client6)
        // With a little SACK, everything fits.
        let small = segment(options: [.nop, .nop, ts, .nop, .nop, .sack(Array(blocks[..<1]))]).build()
        #expect(insertTOA(small, port: 3, address: Self.client4).result == .inserted)
    }

    /// A client TOA is removed when room is short, before any SACK block is touched.
    @Test func clientTOAIsRemovedWhenPruning() {
        let spoofed: TCPOptionSpec = .raw(kind: 254, bytes: [0, 80, 6, 6, 6, 6])
        let ts: TCPOptionSpec = .timestamps(val: 100, ecr: 200)
        let blocks: [(UInt32, UInt32)] = [(1, 2), (3, 4)]
        let original = segment(options: [spoofed, ts, .nop, .nop, .sack(blocks)]).build()
        let r = insertTOA(original, port: 3, address: Self.client4)
        #expect(r.result == .pruned(removedBytes: 12))
        #expect(r.frame == segment(options: [toaOption(port: 3, address: Self.client4), ts, .sack(blocks)]).build())
        expectWellFormed(r, original: original, port: 3, address: Self.client4)
    }

    /// 40 bytes of options where only an unprotected one can go.
    @Test func fullOptionsWithUnknown() {
        let ts: TCPOptionSpec = .timestamps(val: 100, ecr: 200)
        let mptcp: TCPOptionSpec = .raw(kind: 30, bytes: [UInt8](repeating: 0x5A, count: 28))
        let original = segment(options: [ts, mptcp]).build()
        let r = insertTOA(original, port: 3, address: Self.client4)
        #expect(r.result == .pruned(removedBytes: 28))
        #expect(r.frame == segment(options: [toaOption(port: 3, address: Self.client4), ts]).build())
        expectWellFormed(r, original: original, port: 3, address: Self.client4)
    }

    /// Protected options are never removed: with no other room, nothing changes.
    @Test func fullProtectedOptionsMeanNoRoom() {
        let ts: TCPOptionSpec = .timestamps(val: 100, ecr: 200)
        let original = segment(options: [.mss(1460), .windowScale(7), .sackPermitted, ts, ts, ts]).build()
        let r = insertTOA(original, port: 3, address: Self.client4)
        #expect(r.result == .noRoom)
        #expect(r.frame == original && r.after == r.before)
        // The same options leave room for 8 bytes but not for 20 once padding goes.
        let fitting = segment(options: [.mss(1460), .windowScale(7), .sackPermitted, ts, .nop, .nop, .nop, .nop])
            .build()
        #expect(insertTOA(fitting, port: 3, address: Self.client4).result == .inserted)
        let r6 = insertTOA(fitting, port: 3, address: Self.client6)
        #expect(r6.result == .pruned(removedBytes: 4))
        expectWellFormed(r6, original: fitting, port: 3, address: Self.client6)
    }

    // MARK: MTU and buffer limits

    @Test func mtuLimited() {
        let ts: TCPOptionSpec = .timestamps(val: 100, ecr: 200)
        let original = segment(options: [.nop, .nop, ts], payload: [UInt8](repeating: 7, count: 1000)).build()
        let ipLength = original.count - 14
        let exact = insertTOA(original, port: 3, address: Self.client4, mtu: ipLength + 8)
        #expect(exact.result == .inserted)
        expectWellFormed(exact, original: original, port: 3, address: Self.client4, mtu: ipLength + 8)
        let short = insertTOA(original, port: 3, address: Self.client4, mtu: ipLength + 7)
        #expect(short.result == .noRoom)
        #expect(short.frame == original && short.after == short.before)
        // With SACK to give up, the segment shrinks enough to take the option at the same MTU.
        let sack = segment(
            options: [.nop, .nop, ts, .nop, .nop, .sack([(1, 2)])], payload: [UInt8](repeating: 7, count: 1000)
        )
        .build()
        let r = insertTOA(sack, port: 3, address: Self.client4, mtu: sack.count - 14)
        #expect(r.result == .pruned(removedBytes: 12))
        #expect(
            r.frame
                == segment(
                    options: [toaOption(port: 3, address: Self.client4), ts],
                    payload: [UInt8](repeating: 7, count: 1000)
                ).build())
        expectWellFormed(r, original: sack, port: 3, address: Self.client4, mtu: sack.count - 14)
        for mtu in [-1, 0, 40, Int.max, Int.min] {
            let odd = insertTOA(original, port: 3, address: Self.client4, mtu: mtu)
            #expect(odd.result == (mtu == Int.max ? .inserted : .noRoom))
        }
    }

    /// No tailroom: only dropping padding can make room.
    @Test func bufferLimited() {
        let ts: TCPOptionSpec = .timestamps(val: 100, ecr: 200)
        let padded = segment(options: [TCPOptionSpec](repeating: .nop, count: 8) + [ts]).build()
        let r = insertTOA(padded, tailroom: 0, port: 3, address: Self.client4)
        #expect(r.result == .pruned(removedBytes: 8))
        #expect(r.frame.count == padded.count)
        expectWellFormed(r, original: padded, port: 3, address: Self.client4)
        let tight = segment(options: [.nop, .nop, ts]).build()
        let none = insertTOA(tight, tailroom: 7, port: 3, address: Self.client4)
        #expect(none.result == .noRoom)
        #expect(none.frame == tight)
        #expect(insertTOA(tight, tailroom: 8, port: 3, address: Self.client4).result == .inserted)
    }

    // MARK: checksums

    /// The update is incremental: a corrupted payload stays exactly as corrupted (docs/design.md §4.6).
    @Test(arguments: [false, true])
    func corruptionIsNotLaundered(v6: Bool) {
        let blocks: [(UInt32, UInt32)] = [(1, 2), (3, 4), (5, 6)]
        for options: [TCPOptionSpec] in [[], [.nop, .nop, .timestamps(val: 1, ecr: 2), .nop, .nop, .sack(blocks)]] {
            var original = segment(v6: v6, options: options).build()
            let (_, info) = parse(original)
            original[info.payloadOffset + 3] ^= 0x40
            #expect(FrameChecker.problem(original) == "TCP checksum wrong")
            var r = insertTOA(original, port: 3, address: Self.client6)
            #expect(r.result != .noRoom && r.result != .malformed)
            #expect(FrameChecker.problem(r.frame) == "TCP checksum wrong")
            r.frame[r.after.payloadOffset + 3] ^= 0x40
            #expect(FrameChecker.problem(r.frame) == nil)
        }
    }

    // MARK: refusals

    @Test func malformedInputsAreRefused() {
        let original = segment(options: [.nop, .nop, .timestamps(val: 1, ecr: 2)]).build()
        let (_, info) = parse(original)
        func attempt(_ tamper: (inout PacketInfo, inout Int) -> Void) -> TOAInsertResult {
            var buffer = original + [UInt8](repeating: 0, count: 64)
            var length = original.count
            var i = info
            tamper(&i, &length)
            let copy = i
            var span = buffer.mutableSpan
            let result = TOA.insert(
                into: &span, length: &length, info: &i, port: 1, address: Self.client4, mtu: 1500)
            #expect(i == copy)
            return result
        }
        #expect(attempt { i, _ in i.l4Protocol = 17 } == .malformed)
        #expect(attempt { i, _ in i.tcpHeaderLength = 28 } == .malformed)
        #expect(attempt { i, _ in i.tcpHeaderLength = 64 } == .malformed)
        #expect(attempt { i, _ in i.ipEnd -= 1 } == .malformed)
        #expect(attempt { i, _ in i.ipEnd += 1 } == .malformed)
        #expect(attempt { _, l in l -= 1 } == .malformed)
        #expect(attempt { _, l in l = 1 << 20 } == .malformed)
        #expect(attempt { i, _ in i.isV6 = true } == .malformed)
        #expect(attempt { i, _ in i.l4Offset = 30 } == .malformed)
        let udp = PacketBuilder().ipv4(src: "10.0.0.1", dst: "10.0.0.2").udp(sport: 1, dport: 2, payload: [1]).build()
        let r = insertTOA(udp, port: 1, address: Self.client4)
        #expect(r.result == .malformed && r.frame == udp)
    }

    // MARK: sweeps

    /// Random option sets, payloads, MTUs and tailrooms. Oracle: `.inserted` exactly when the option
    /// fits without pruning, `.noRoom` only when it cannot fit even with nothing but the protected
    /// options, and every success is a well-formed frame that kept the protected options and a prefix
    /// of the SACK blocks.
    @Test func randomSweep() {
        var rng = SplitMix(seed: 0x70A)
        let pool: [TCPOptionSpec] = [
            .nop, .nop, .timestamps(val: 9, ecr: 8), .mss(1400), .windowScale(3), .sackPermitted,
            .sack([(10, 20)]), .sack([(10, 20), (30, 40)]), .sack([(10, 20), (30, 40), (50, 60)]),
            .raw(kind: 254, bytes: [0, 1, 2, 3, 4, 5]), .raw(kind: 30, bytes: [1, 2, 3, 4]),
            .raw(kind: 34, bytes: [7, 7, 7, 7, 7, 7, 7, 7]), .raw(kind: 254, bytes: []),
        ]
        var counts: [String: Int] = [:]
        for _ in 0..<1500 {
            var options: [TCPOptionSpec] = []
            var size = 0
            while true {
                let o = pool[Int(rng.next() % UInt64(pool.count))]
                if size + o.encoded.count > 40 || rng.next() % 6 == 0 { break }
                options.append(o)
                size += o.encoded.count
            }
            let v6Packet = rng.next() % 2 == 0
            let client = rng.next() % 2 == 0 ? Self.client4 : Self.client6
            let payload = (0..<Int(rng.next() % 120)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let original = segment(
                v6: v6Packet, vlan: rng.next() % 3 == 0 ? 5 : nil, options: options, payload: payload
            )
            .build()
            let (_, info) = parse(original)
            let ipLength = info.ipEnd - info.l3Offset
            let mtu = ipLength + Int(rng.next() % 48) - 24
            let tailroom = Int(rng.next() % 40)
            let r = insertTOA(original, tailroom: tailroom, port: 4242, address: client, mtu: mtu)
            let n = client.isV6 ? 20 : 8
            let oldOptions = info.tcpHeaderLength - 20
            let limit = min(original.count + tailroom, info.l3Offset + mtu)
            let protected = optionList(original, l4: info.l4Offset).filter { [2, 3, 4, 8].contains($0[0]) }
            let protectedBytes = (protected.reduce(0) { $0 + $1.count } + 3) & ~3
            let fitsAsIs = oldOptions + n <= 40 && info.ipEnd + n <= limit
            let fitsAtAll = protectedBytes + n <= 40 && info.ipEnd - oldOptions + protectedBytes + n <= limit
            switch r.result {
            case .inserted:
                counts["inserted", default: 0] += 1
                #expect(fitsAsIs)
            case .pruned(let removed):
                counts["pruned", default: 0] += 1
                #expect(!fitsAsIs && removed > 0)
            case .noRoom:
                counts["noRoom", default: 0] += 1
                #expect(!fitsAtAll)
                #expect(r.frame == original && r.after == r.before)
            case .malformed:
                Issue.record("malformed for a parsed segment")
            }
            if r.result != .noRoom && r.result != .malformed {
                expectWellFormed(r, original: original, port: 4242, address: client, mtu: mtu)
                let kept = optionList(r.frame, l4: r.after.l4Offset).dropFirst()
                #expect(kept.filter { [2, 3, 4, 8].contains($0[0]) } == protected)
                let oldSACK = optionList(original, l4: info.l4Offset).filter { $0[0] == 5 }.flatMap { $0.dropFirst(2) }
                let newSACK = kept.filter { $0[0] == 5 }.flatMap { $0.dropFirst(2) }
                #expect(Array(oldSACK.prefix(newSACK.count)) == newSACK)
                #expect(r.frame.count == r.after.ipEnd)
            }
        }
        // The sweep must reach every outcome, or it proves little.
        #expect(counts["inserted", default: 0] > 100 && counts["pruned", default: 0] > 100)
        #expect(counts["noRoom", default: 0] > 100)
    }

    /// Tampered `info` values and truncated buffers: insert must answer without trapping, and either
    /// refuse with the frame unchanged or produce a frame whose IP and TCP lengths agree.
    @Test func noTrapSweep() {
        var rng = SplitMix(seed: 0xBAD)
        let originals = [
            segment(options: [.nop, .nop, .timestamps(val: 1, ecr: 2), .nop, .nop, .sack([(1, 2), (3, 4)])]).build(),
            segment(v6: true, vlan: 4, options: [.mss(1200)]).build(),
        ]
        var successes = 0
        for original in originals {
            let (_, info) = parse(original)
            for _ in 0..<3000 {
                var i = info
                var length = original.count
                let capacity = max(0, original.count + Int(rng.next() % 64) - 32)
                var buffer = Array((original + [UInt8](repeating: 0, count: 64))[..<capacity])
                let field = rng.next() % 7
                let delta = Int(rng.next() % 128) - 64
                switch field {
                case 0: i.l3Offset += delta
                case 1: i.l4Offset += delta
                case 2: i.tcpHeaderLength += delta
                case 3: i.ipEnd += delta
                case 4: length += delta
                case 5: i.isV6.toggle()
                default: length = min(length, capacity)
                }
                let before = buffer
                let result: TOAInsertResult
                do {
                    var span = buffer.mutableSpan
                    result = TOA.insert(
                        into: &span, length: &length, info: &i, port: 1, address: Self.client6,
                        mtu: Int(rng.next() % 2000))
                }
                if result == .noRoom || result == .malformed {
                    #expect(buffer == before)
                } else {
                    successes += 1
                    #expect(length <= capacity && i.ipEnd == length)
                    #expect(FrameChecker.problem(Array(buffer[..<length])) == nil)
                }
            }
        }
        #expect(successes > 100)
    }
}
