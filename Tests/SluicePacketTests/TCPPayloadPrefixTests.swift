import SluicePacket
import SluiceTestKit
import Testing

/// `TCPPayloadPrefix.insert` on its own (the data plane's PROXY tests cover it in context): checksums
/// stay right for odd and even lengths in both families, PSH only on an empty payload, and a writer that
/// falls short leaves the frame as it was.
struct TCPPayloadPrefixTests {
    static func segment(v6: Bool, payload: [UInt8]) -> [UInt8] {
        let ethernet = PacketBuilder().ethernet()
        let ip =
            v6
            ? ethernet.ipv6(src: IPAddress("fd00::1")!, dst: IPAddress("fd00::2")!)
            : ethernet.ipv4(src: IPAddress("10.0.0.1")!, dst: IPAddress("10.0.0.2")!)
        return ip.tcp(sport: 40000, dport: 80, seq: 1, ack: 1, flags: TCPFlag.ack, payload: payload).build()
    }

    /// Inserts `prefix` through a writer that writes `written` of its bytes; returns the outcome, the frame
    /// and the frame's parse (the insertion leaves the caller's PacketInfo to the caller).
    static func insert(_ frame: [UInt8], prefix: [UInt8], written: Int? = nil) -> (Bool, [UInt8], PacketInfo) {
        let (reason, info) = parse(frame)
        #expect(reason == nil)
        var buffer = frame + [UInt8](repeating: 0, count: 128)
        var length = frame.count
        let inserted: Bool
        do {
            var span = buffer.mutableSpan
            inserted = TCPPayloadPrefix.insert(count: prefix.count, into: &span, length: &length, info: info) {
                frame, at in
                let n = written ?? prefix.count
                for i in 0..<n { frame[at + i] = prefix[i] }
                return n
            }
        }
        let out = Array(buffer[..<length])
        let (after, reparsed) = parse(out)
        #expect(after == nil)
        return (inserted, out, reparsed)
    }

    @Test(arguments: [false, true], [5, 16])
    func prefixGoesInFrontOfThePayload(v6: Bool, count: Int) {
        let payload = Array((0..<101).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        let frame = Self.segment(v6: v6, payload: payload)
        let prefix = (0..<count).map { UInt8(0xA0 + $0) }
        let (inserted, out, info) = Self.insert(frame, prefix: prefix)
        #expect(inserted)
        #expect(FrameChecker.problem(out) == nil)
        #expect(Array(out[info.payloadOffset..<info.ipEnd]) == prefix + payload)
        #expect(info.payloadLength == payload.count + count)
        #expect(out[info.l4Offset + 13] & TCPFlag.psh == 0)
        #expect(info.ipEnd == frame.count + count)
    }

    /// The incrementally updated TCP checksum is the value a full recomputation gives, bit for bit,
    /// for odd and even inserted lengths (an odd one moves the payload to odd offsets: its sum enters
    /// byte-swapped) and odd and even payload lengths, in both families.
    @Test(arguments: [false, true])
    func incrementalChecksumEqualsRecomputation(v6: Bool) {
        for payloadLength in [0, 1, 2, 7, 64, 65, 200, 513] {
            for count in [1, 2, 3, 16, 44, 45, 107] {
                let payload = (0..<payloadLength).map { UInt8(truncatingIfNeeded: $0 &* 29 &+ payloadLength) }
                let (inserted, out, info) = Self.insert(
                    Self.segment(v6: v6, payload: payload), prefix: (0..<count).map { UInt8(0x30 + $0 % 64) })
                #expect(inserted)
                var zeroed = out
                zeroed[info.l4Offset + 16] = 0
                zeroed[info.l4Offset + 17] = 0
                let segment = Array(zeroed[info.l4Offset..<info.ipEnd])
                let pseudo = PacketBuilder.pseudoHeaderSum(
                    source: info.source, destination: info.destination, protocolNumber: 6, length: segment.count)
                let recomputed = reference(segment, pseudo: pseudo)
                let field = UInt16(out[info.l4Offset + 16]) << 8 | UInt16(out[info.l4Offset + 17])
                #expect(field == recomputed, "v6 \(v6) payload \(payloadLength) prefix \(count)")
            }
        }
    }

    @Test func anEmptyPayloadGetsPSH() {
        let (inserted, out, info) = Self.insert(Self.segment(v6: false, payload: []), prefix: Array("PROXY".utf8))
        #expect(inserted)
        #expect(FrameChecker.problem(out) == nil)
        #expect(out[info.l4Offset + 13] & TCPFlag.psh != 0)
    }

    @Test func aShortWriteLeavesTheFrameAsItWas() {
        let frame = Self.segment(v6: false, payload: Array(repeating: 0x55, count: 40))
        let (inserted, out, info) = Self.insert(frame, prefix: Array(repeating: 0x11, count: 12), written: 3)
        #expect(!inserted)
        #expect(out == frame)
        #expect(info.ipEnd == frame.count)
    }

    /// Safe on its own: no room, a layout that does not fit the frame, or a count of 0 or less is refused
    /// with the frame untouched and the writer never called.
    @Test func refusesWhatDoesNotFitWithoutTheCallersChecks() {
        let frame = Self.segment(v6: false, payload: Array(repeating: 0x41, count: 10))
        let (_, info) = parse(frame)
        var damaged = info
        damaged.ipEnd = frame.count + 50
        var early = info
        early.payloadOffset = info.l4Offset + 4
        for (count, layout, room) in [
            (129, info, 128), (-1, info, 128), (0, info, 128), (4, damaged, 128), (4, early, 128), (4, info, 0),
        ] {
            var buffer = frame + [UInt8](repeating: 0, count: room)
            var length = frame.count
            var called = false
            let inserted: Bool
            do {
                var span = buffer.mutableSpan
                inserted = TCPPayloadPrefix.insert(count: count, into: &span, length: &length, info: layout) { _, _ in
                    called = true
                    return count
                }
            }
            #expect(!inserted && !called && length == frame.count && Array(buffer.prefix(frame.count)) == frame)
        }
    }
}
