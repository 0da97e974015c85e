// The connection-sync wire format: records and messages round trip (IPv4 and IPv6, every kind), a
// datagram holds at most `recordsPerMessage` records and never exceeds 1400 bytes, a forged or
// corrupted datagram and one under another key are refused by their tag, malformed ones are refused
// with a reason and never trap, and the replay window refuses repeats, old runs and numbers too far
// behind while taking reordering within its width.

import SluiceCore
import SluicePacket
import Testing

@Suite struct SyncMessageTests {
    static let key: (UInt64, UInt64) = (0x0123_4567_89AB_CDEF, 0x0FED_CBA9_8765_4321)

    static func record(_ i: Int, v6: Bool = false) -> SyncRecord {
        func address(_ n: Int) -> IPAddress {
            v6 ? IPAddress(v6High: 0x2001_0db8_0000_0000, low: UInt64(n)) : IPAddress(v4: 0x0A00_0000 + UInt32(n))
        }
        var c = Connection(
            client: address(1000 + i), clientPort: UInt16(40_000 + i), vip: address(1), vport: 80, local: address(2),
            localPort: UInt16(2000 + i), real: address(3), realPort: 8080, transport: 6, state: .established,
            serviceIndex: 3, realServerIndex: 1, expiresAt: 0, seqDelta: 0xDEAD_BEEF, ackDelta: 0x0102_0304,
            flags: 0x8123, clientMSS: 1460, aux0: 77, aux1: 0xFFFF_FFFF)
        c.clientAck = 5
        c.serverAck = 6
        c.synProxyNibbles = 0x37
        c.repeatFingerprint = 0xABCD
        return SyncRecord(kind: i % 2 == 0 ? .update : .remove, connection: c, idleMilliseconds: 90_000)
    }

    @Test(arguments: [false, true])
    func recordsRoundTrip(v6: Bool) throws {
        let records = (0..<SyncMessage.recordsPerMessage).map { Self.record($0, v6: v6) }
        let bytes = SyncMessage(kind: .entries, epoch: 42, sequence: 7, records: records).encode(key: Self.key)
        #expect(bytes.count <= SyncMessage.maximumSize)
        let message = try SyncMessage.decode(bytes, key: Self.key).get()
        #expect(message.kind == .entries && message.epoch == 42 && message.sequence == 7)
        #expect(message.records.count == records.count)
        for (got, sent) in zip(message.records, records) {
            var expected = sent
            // Indexes and the absolute deadline are the sender's own: not carried.
            expected.connection.serviceIndex = 0
            expected.connection.realServerIndex = 0
            #expect(got == expected)
        }
    }

    @Test func aMessageHoldsAtMostOneDatagramOfRecords() throws {
        #expect(SyncMessage.recordsPerMessage == 12)
        let records = (0..<30).map { Self.record($0) }
        let bytes = SyncMessage(kind: .entries, epoch: 1, sequence: 1, records: records).encode(key: Self.key)
        #expect(bytes.count == SyncMessage.headerSize + 12 * SyncRecord.encodedSize + SyncMessage.tagSize)
        #expect(try SyncMessage.decode(bytes, key: Self.key).get().records.count == 12)
    }

    @Test func heartbeatsCarryAddresses() throws {
        let lips = [IPAddress(v4: 0x0A36_01F0), IPAddress(v6High: 0xfd00, low: 0x240)]
        let bytes = SyncMessage(kind: .heartbeat, epoch: 9, sequence: 3, addresses: lips).encode(key: Self.key)
        #expect(try SyncMessage.decode(bytes, key: Self.key).get().addresses == lips)
        for kind in [SyncMessage.Kind.bulkRequest, .leaving] {
            let m = try SyncMessage.decode(
                SyncMessage(kind: kind, epoch: 9, sequence: 4).encode(key: Self.key), key: Self.key
            )
            .get()
            #expect(m.kind == kind)
        }
    }

    @Test func forgedAndCorruptedDatagramsAreRefused() {
        let bytes = SyncMessage(kind: .entries, epoch: 1, sequence: 1, records: [Self.record(0)]).encode(key: Self.key)
        #expect(refusal(bytes, key: (1, 2)) == .tag, "another key")
        for i in stride(from: 4, to: bytes.count, by: 7) {
            var flipped = bytes
            flipped[i] ^= 0x10
            #expect(refusal(flipped, key: Self.key) == .tag, "byte \(i) changed")
        }
        var wrongMagic = bytes
        wrongMagic[0] = 0
        #expect(refusal(wrongMagic, key: Self.key) == .magic)
        #expect(refusal(Array(bytes.prefix(20)), key: Self.key) == .short)
        #expect(refusal(bytes + Array(repeating: 0, count: 1500), key: Self.key) == .short)
    }

    @Test func wellTaggedButMalformedDatagramsAreRefusedWithAReason() {
        // Correctly tagged nonsense: a bad count, an unknown kind, a record with an unknown state.
        func tagged(_ body: [UInt8]) -> [UInt8] {
            var hash = SipHash24(k0: Self.key.0, k1: Self.key.1)
            for b in body { hash.combine(b) }
            let tag = hash.finalize()
            return body + (0..<8).map { UInt8(truncatingIfNeeded: tag >> (56 - 8 * UInt64($0))) }
        }
        let header = SyncMessage.magic + [SyncMessage.version, 1, 0, 2] + Array(repeating: 0, count: 15) + [1]
        #expect(refusal(tagged(header), key: Self.key) == .length, "two records announced, none there")
        var unknown = header
        unknown[5] = 99
        #expect(refusal(tagged(unknown), key: Self.key) == .kind)
        var version = header
        version[4] = 2
        #expect(refusal(tagged(version), key: Self.key) == .version)
        var one = SyncMessage.magic + [SyncMessage.version, 1, 0, 1] + Array(repeating: 0, count: 15) + [1]
        var body: [UInt8] = []
        Self.record(0).encode(into: &body)
        body[2] = 200  // no such state
        one += body
        #expect(refusal(tagged(one), key: Self.key) == .record)
        // Random datagrams: refused, never a trap.
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let n = Int.random(in: 0...1400, using: &generator)
            let junk = SyncMessage.magic + (0..<n).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect(refusal(junk, key: Self.key) != nil)
        }
    }

    func refusal(_ bytes: [UInt8], key: (UInt64, UInt64)) -> SyncMessage.Refusal? {
        if case .failure(let reason) = SyncMessage.decode(bytes, key: key) { return reason }
        return nil
    }

    @Test func theReplayWindow() {
        var w = SyncReplayWindow()
        // (epoch, sequence, accepted), in arrival order.
        let arrivals: [(UInt64, UInt64, Bool)] = [
            (100, 1, true),
            (100, 1, false),  // a repeat
            (100, 5, true),
            (100, 3, true),  // reordered within the window
            (100, 3, false),
            (100, 200, true),
            (100, 200 - SyncReplayWindow.width, false),  // too far behind to tell
            (100, 200 - SyncReplayWindow.width + 1, true),
            (99, 1_000, false),  // an older run
            (100, 0, false),
            (101, 1, true),  // the peer restarted
            (100, 201, false),  // the old run is over
        ]
        for (epoch, sequence, expected) in arrivals {
            let accepted = w.accept(epoch: epoch, sequence: sequence)
            #expect(accepted == expected, "epoch \(epoch) sequence \(sequence)")
        }
    }

    @Test func aRoundKeepsOnlyEachConnectionsLastEvent() {
        var opened = Self.record(0)
        opened.kind = .update
        var closing = opened
        closing.connection.state = .finWait
        var gone = opened
        gone.kind = .remove
        let other = Self.record(2)
        let kept = SyncRecord.latest([opened, other, closing, gone])
        #expect(kept.count == 2)
        #expect(kept.map(\.kind) == [.update, .remove], "the other connection's event, then the last of the first")
        #expect(kept[0].connection.clientPort == other.connection.clientPort)
        #expect(SyncRecord.latest([opened]) == [opened])
    }
}
