// The frames SYNPROXY originates (TCPSegmentBuilder), the held-segment pool and the settings'
// ranges, tested directly: every field of a built frame, checksums recomputed independently
// (FrameChecker), the option layout parsed back, and the pool's bounds and reuse.

import SluiceCore
import SluicePacket
import SluiceTestKit
import Testing

@Suite struct SynProxySegmentBuilderTests {
    func segment(v6: Bool = false) -> TCPSegmentBuilder.Segment {
        TCPSegmentBuilder.Segment(
            sourceMAC: 0x0200_0000_0001, destinationMAC: 0x0200_0000_0002,
            source: v6 ? Topology.lip6 : Topology.lips[0], destination: v6 ? Topology.rs6 : Topology.rs1,
            sourcePort: 2000, destinationPort: 8080, sequence: 0xFFFF_FFF0, acknowledgement: 7,
            flags: TCPFlag.rst | TCPFlag.ack, window: 0, ttl: 33)
    }

    func build(_ s: TCPSegmentBuilder.Segment, room: Int = 128) -> [UInt8] {
        var buffer = Array(repeating: UInt8(0xEE), count: room)
        var span = buffer.mutableSpan
        let n = TCPSegmentBuilder.build(&span, s)
        return Array(buffer.prefix(n))
    }

    @Test func resetWithoutOptions() {
        for v6 in [false, true] {
            let frame = build(segment(v6: v6))
            #expect(frame.count == 14 + (v6 ? 40 : 20) + 20)
            #expect(FrameChecker.problem(frame) == nil)
            var info = PacketInfo()
            let problem = PacketParser.parse(frame.span, length: frame.count, into: &info)
            #expect(problem == nil)
            #expect(frame.mac(0) == 0x0200_0000_0002 && frame.mac(6) == 0x0200_0000_0001)
            #expect(info.source == (v6 ? Topology.lip6 : Topology.lips[0]))
            #expect(info.destination == (v6 ? Topology.rs6 : Topology.rs1))
            #expect(info.sourcePort == 2000 && info.destinationPort == 8080)
            #expect(frame.u32(info.l4Offset + 4) == 0xFFFF_FFF0 && frame.u32(info.l4Offset + 8) == 7)
            #expect(info.tcpFlags == TCPFlag.rst | TCPFlag.ack && info.tcpHeaderLength == 20)
            #expect(frame[info.hopLimitOffset] == 33)
            #expect(info.dontFragment)
            #expect(info.payloadLength == 0)
        }
    }

    @Test(arguments: [false, true], [false, true]) func synOptionLayouts(timestamps: Bool, sack: Bool) {
        for ws: UInt8? in [nil, 0, 9, 20] {
            var s = segment()
            s.flags = TCPFlag.syn
            s.mss = 1400
            s.windowScale = ws
            s.sackPermitted = sack
            s.timestamps = timestamps
            s.timestampValue = 11
            s.timestampEcho = 0
            let frame = build(s)
            #expect(FrameChecker.problem(frame) == nil)
            var info = PacketInfo()
            let problem = PacketParser.parse(frame.span, length: frame.count, into: &info)
            #expect(problem == nil)
            let o = frame.options(info)
            #expect(o.mss == 1400)
            #expect(o.ws == ws.map { min($0, 14) })
            #expect(o.sack == sack)
            #expect(o.ts?.0 == (timestamps ? 11 : nil))
            #expect(
                info.tcpHeaderLength == 24 + (timestamps ? 12 : 0) + (ws == nil ? 0 : 4) + (sack && !timestamps ? 4 : 0)
            )
        }
    }

    @Test func refusesWhatDoesNotFit() {
        #expect(build(segment(), room: 53).isEmpty)
        #expect(build(segment(), room: 54).count == 54)
        var mixed = segment()
        mixed.destination = Topology.rs6
        #expect(build(mixed).isEmpty)
    }

    func hold(
        _ queue: inout SynProxySegmentQueue, _ id: ConnectionID, _ frame: [UInt8],
        _ segment: SynProxySegmentQueue.Segment
    ) -> Bool {
        queue.append(id, frame: frame.span, segment: segment, limit: 2)
    }

    @Test func segmentQueueBoundsAndReuse() {
        var queue = SynProxySegmentQueue(slots: 3, connections: 4)
        let frame = Array(0..<100).map { UInt8($0) }
        func record(_ seq: UInt32) -> SynProxySegmentQueue.Segment {
            .init(length: 100, flags: TCPFlag.ack, window: 1, sequence: seq, end: seq &+ 10, timestampValue: 0)
        }
        #expect(hold(&queue, 1, frame, record(1)))
        #expect(hold(&queue, 1, frame, record(11)))
        #expect(!hold(&queue, 1, frame, record(21)))
        #expect(hold(&queue, 2, frame, record(5)))
        #expect(!hold(&queue, 3, frame, record(5)))
        #expect(queue.freeSlots == 0)
        #expect(queue.count(of: 1) == 2 && queue.count(of: 2) == 1 && queue.count(of: 3) == 0)
        #expect(queue.holdsCopy(of: record(11), for: 1) && !queue.holdsCopy(of: record(11), for: 2))
        let first = queue.first(of: 1)
        #expect(queue[first].sequence == 1 && queue[queue.next(after: first)].sequence == 11)
        var out = Array(repeating: UInt8(0), count: 100)
        var span = out.mutableSpan
        let copied = queue.copy(first, into: &span)
        #expect(copied == 100)
        #expect(out == frame)
        var small = Array(repeating: UInt8(0), count: 99)
        var smallSpan = small.mutableSpan
        let refused = queue.copy(first, into: &smallSpan)
        #expect(refused == 0)
        queue.removeAll(of: 1)
        #expect(queue.freeSlots == 2 && queue.first(of: 1) < 0)
        #expect(hold(&queue, 3, frame, record(7)))
        let oversized = Array(repeating: UInt8(1), count: SynProxySegmentQueue.slotSize + 1)
        var big = record(9)
        big.length = UInt16(oversized.count)
        #expect(!hold(&queue, 3, oversized, big))
    }

    /// The id → first-segment map is sized by the slots, not by the connection ids: ids far apart and
    /// colliding in the map, held and freed in random order, against a model.
    @Test func segmentQueueMapChurn() {
        var queue = SynProxySegmentQueue(slots: 16, connections: 1_000_000)
        #expect(queue.memoryBytes < 16 * SynProxySegmentQueue.slotSize + 2_048)
        let frame = Array(repeating: UInt8(7), count: 60)
        var model: [ConnectionID: Int] = [:]
        var rng = TestRandom(state: 99)
        for step in 0..<4_000 {
            let id = ConnectionID(rng.below(40) * 24_989)
            if rng.below(3) == 0 {
                queue.removeAll(of: id)
                model[id] = nil
            } else {
                let seq = UInt32(step)
                let segment = SynProxySegmentQueue.Segment(
                    length: 60, flags: TCPFlag.ack, window: 1, sequence: seq, end: seq, timestampValue: 0)
                if queue.append(id, frame: frame.span, segment: segment, limit: 3) { model[id, default: 0] += 1 }
            }
            #expect(queue.freeSlots == 16 - model.values.reduce(0, +))
            for (held, n) in model { #expect(queue.count(of: held) == n) }
        }
        for i in 0..<40 { queue.removeAll(of: ConnectionID(i * 24_989)) }
        #expect(queue.freeSlots == 16)
        #expect(queue.first(of: 24_989) < 0)
    }

    @Test func settingsAreClampedIntoTheirRanges() {
        let wild = SynProxyConfiguration(
            mss: 10, mssIPv6: 10, windowScale: 30, retries: 99, queueLength: 0, ackStormThreshold: 40,
            retransmitMilliseconds: 1, heldSegmentSlots: -5
        ).clamped
        #expect(wild.mss == 536 && wild.mssIPv6 == 1220 && wild.windowScale == 14)
        #expect(wild.retries == 7 && wild.queueLength == 1 && wild.ackStormThreshold == 15)
        #expect(wild.retransmitMilliseconds == 100 && wild.heldSegmentSlots == 0)
        #expect(SynProxyConfiguration().clamped == SynProxyConfiguration())
    }
}
