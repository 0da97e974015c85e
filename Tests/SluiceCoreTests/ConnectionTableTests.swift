// Connection table: both keys of every entry, removal with backward shifting, capacity and
// duplicate handling, churn against a reference dictionary, and the memory cost at 2^20 entries.
// The reply index (LIP registry, chains of a shared LIP:lport, ports of other workers, pinning at
// reload) has its own tests in ReplyIndexTests.swift.

import SluiceCore
import SluicePacket
import Testing

/// Deterministic generator for tests (SplitMix64).
struct TestRandom {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

/// A v4 connection whose client port and local port are derived from `n`.
func makeConnection(_ n: Int, transport: UInt8 = 6) -> Connection {
    Connection(
        client: IPAddress(v4: 0x0A00_0000 | UInt32(n >> 16)), clientPort: UInt16(truncatingIfNeeded: n),
        vip: IPAddress(v4: 0xC000_0201), vport: 80, local: IPAddress(v4: 0xAC10_0001 + UInt32(n >> 16)),
        localPort: UInt16(truncatingIfNeeded: n), real: IPAddress(v4: 0xAC10_0164), realPort: 8080,
        transport: transport, state: .synRecv, serviceIndex: 1, realServerIndex: 2, expiresAt: 3000)
}

func makeConnectionV6(_ n: Int) -> Connection {
    Connection(
        client: IPAddress(v6High: 0x2001_0db8_0000_0001, low: UInt64(n)), clientPort: 40000,
        vip: IPAddress(v6High: 0x2001_0db8_0000_ffff, low: 1), vport: 443,
        local: IPAddress(v6High: 0xfd00_0000_0000_0000, low: 1), localPort: UInt16(truncatingIfNeeded: n + 1024),
        real: IPAddress(v6High: 0xfd00_0000_0000_0001, low: 0x10), realPort: 443, transport: 6, state: .synRecv,
        serviceIndex: 0, realServerIndex: 0, expiresAt: 3000)
}

@Suite struct ConnectionTableTests {
    static let seed: (UInt64, UInt64) = (0x0123_4567_89AB_CDEF, 0xFEDC_BA98_7654_3210)

    @Test func connectionLayoutIsCompact() {
        #expect(MemoryLayout<Connection>.size == 111)
        #expect(MemoryLayout<Connection>.stride == 112)
        #expect(MemoryLayout<FlowKey>.stride == 48)
        // Plain bits: no references, so copying an entry or a key never touches a reference count.
        #expect(_isPOD(Connection.self))
        #expect(_isPOD(FlowKey.self))
    }

    @Test func keysAndReversal() {
        let c = makeConnection(7)
        #expect(c.inboundKey.source == c.client && c.inboundKey.destination == c.vip)
        #expect(c.inboundKey.sourcePort == c.clientPort && c.inboundKey.destinationPort == c.vport)
        #expect(c.outboundKey.source == c.real && c.outboundKey.destination == c.local)
        #expect(c.outboundKey.sourcePort == c.realPort && c.outboundKey.destinationPort == c.localPort)
        #expect(c.inboundKey.reversed.source == c.vip && c.inboundKey.reversed.sourcePort == c.vport)
        #expect(c.inboundKey.reversed.reversed == c.inboundKey)
        #expect(c.key(.outbound) == c.outboundKey)
    }

    @Test func insertLookupBothDirectionsAndRemove() {
        var table = ConnectionTable(capacity: 16, seed: Self.seed)
        let c = makeConnection(1)
        let id = table.insert(c)
        #expect(id != nil)
        guard let id else { return }
        #expect(table.count == 1)
        #expect(table.isLive(id) == true)
        let inbound = table.lookup(c.inboundKey)
        #expect(inbound?.id == id && inbound?.direction == .inbound)
        let outbound = table.lookup(c.outboundKey)
        #expect(outbound?.id == id && outbound?.direction == .outbound)
        // The tuples as the *other* side would send them are not keys.
        #expect(table.lookup(c.inboundKey.reversed) == nil)
        #expect(table.lookup(c.outboundKey.reversed) == nil)
        // Protocol is part of the key.
        var udp = c.inboundKey
        udp.transport = 17
        #expect(table.lookup(udp) == nil)
        #expect(table[id] == c)

        #expect(table.remove(id) == true)
        #expect(table.count == 0)
        #expect(table.isLive(id) == false)
        #expect(table.lookup(c.inboundKey) == nil)
        #expect(table.lookup(c.outboundKey) == nil)
        #expect(table.remove(id) == false, "second remove is a no-op")
        #expect(table.remove(-1) == false)
        #expect(table.remove(16) == false)
    }

    @Test func subscriptUpdatesInPlace() {
        var table = ConnectionTable(capacity: 4, seed: Self.seed)
        let id = table.insert(makeConnection(3))!
        table[id].expire(at: 99_000)
        table[id].state = .established
        table[id].seqDelta = table[id].seqDelta &- 5
        #expect(table[id].expiresAt(near: 1_000) == 99_000)
        #expect(table[id].state == .established)
        #expect(table[id].seqDelta == UInt32.max - 4)
        #expect(table.lookup(makeConnection(3).inboundKey)?.id == id)
    }

    @Test func fullTableRefusesThenAcceptsAfterRemove() {
        var table = ConnectionTable(capacity: 4, seed: Self.seed)
        var ids: [ConnectionID] = []
        for n in 0..<4 { ids.append(table.insert(makeConnection(n))!) }
        #expect(Set(ids).count == 4)
        #expect(table.insert(makeConnection(4)) == nil)
        #expect(table.count == 4)
        #expect(table.remove(ids[2]) == true)
        let again = table.insert(makeConnection(4))
        #expect(again == ids[2], "the freed entry is reused")
        #expect(table.lookup(makeConnection(4).outboundKey)?.id == again)
        #expect(table.lookup(makeConnection(2).inboundKey) == nil)
    }

    @Test func duplicateKeysAreRefused() {
        var table = ConnectionTable(capacity: 8, seed: Self.seed)
        let c = makeConnection(10)
        #expect(table.insert(c) != nil)
        #expect(table.insert(c) == nil)
        var sameInbound = makeConnection(10)
        sameInbound.localPort = 5000
        #expect(table.insert(sameInbound) == nil)
        var sameOutbound = makeConnection(10)
        sameOutbound.clientPort = 5000
        #expect(table.insert(sameOutbound) == nil)
        // A connection whose inbound key equals another's outbound key collides too.
        var crossed = makeConnection(99)
        crossed.client = c.real
        crossed.clientPort = c.realPort
        crossed.vip = c.local
        crossed.vport = c.localPort
        #expect(table.insert(crossed) == nil)
        // Degenerate: both keys equal.
        var degenerate = makeConnection(50)
        degenerate.real = degenerate.client
        degenerate.realPort = degenerate.clientPort
        degenerate.local = degenerate.vip
        degenerate.localPort = degenerate.vport
        #expect(table.insert(degenerate) == nil)
        #expect(table.count == 1)
    }

    @Test func ipv6AndFamiliesAreDistinct() {
        var table = ConnectionTable(capacity: 8, seed: Self.seed)
        let c6 = makeConnectionV6(5)
        let id = table.insert(c6)!
        #expect(table.lookup(c6.inboundKey)?.id == id)
        #expect(table.lookup(c6.outboundKey)?.direction == .outbound)
        // Same low bits, other family: no match.
        var v4 = c6.inboundKey
        v4.source = IPAddress(v4: UInt32(truncatingIfNeeded: c6.client.low))
        #expect(table.lookup(v4) == nil)
        // Only the high half differs.
        var other = c6.inboundKey
        other.source.high ^= 1
        #expect(table.lookup(other) == nil)
    }

    /// Random inserts and removes at high load, checked after every step against a dictionary:
    /// exercises probe runs that wrap the slot array and backward-shift deletion.
    @Test func churnMatchesReferenceModel() {
        let capacity = 48
        var table = ConnectionTable(capacity: capacity, seed: (7, 11))
        var model: [Int: ConnectionID] = [:]  // connection number → id
        var rng = TestRandom(state: 42)
        for step in 0..<20_000 {
            let n = rng.below(96)
            if let id = model[n] {
                #expect(table.remove(id) == true)
                model[n] = nil
            } else {
                let id = table.insert(makeConnection(n))
                if model.count == capacity {
                    #expect(id == nil)
                } else {
                    #expect(id != nil)
                    model[n] = id
                }
            }
            #expect(table.count == model.count)
            if step % 97 == 0 || step > 19_900 {
                for m in 0..<96 {
                    let c = makeConnection(m)
                    let expected = model[m]
                    let found = table.lookup(c.inboundKey)
                    #expect(found?.id == expected)
                    #expect(table.lookup(c.outboundKey)?.id == expected)
                    if let found { #expect(table[found.id] == c) }
                }
            }
        }
    }

    @Test func forEachAndRemoveAll() {
        var table = ConnectionTable(capacity: 8, seed: Self.seed)
        for n in 0..<5 { _ = table.insert(makeConnection(n)) }
        table.remove(table.lookup(makeConnection(2).inboundKey)!.id)
        var ports: [UInt16] = []
        table.forEach { _, c in ports.append(c.clientPort) }
        #expect(ports.sorted() == [0, 1, 3, 4])
        table.removeAll()
        #expect(table.count == 0)
        #expect(table.lookup(makeConnection(1).inboundKey) == nil)
        for n in 0..<8 { #expect(table.insert(makeConnection(n + 100)) != nil) }
    }

    /// The production size: 2^20 entries fit in about 130 bytes each (before any LIP is registered),
    /// and the table works at load.
    @Test func millionEntryCapacity() {
        var table = ConnectionTable(capacity: 1 << 20, seed: Self.seed)
        #expect(table.capacity == 1 << 20)
        #expect(table.slotCount == ((1 << 20) * 5 + 2) / 3)
        #expect(table.bytesPerConnection <= 130)
        let n = 20_000
        var failures = 0
        for i in 0..<n where table.insert(makeConnection(i)) == nil { failures += 1 }
        #expect(failures == 0)
        #expect(table.count == n)
        for i in stride(from: 0, to: n, by: 2) {
            if let hit = table.lookup(makeConnection(i).outboundKey), table.remove(hit.id) { continue }
            failures += 1
        }
        #expect(failures == 0)
        var wrong = 0
        for i in 0..<n where (table.lookup(makeConnection(i).inboundKey) != nil) != (i % 2 == 1) { wrong += 1 }
        #expect(wrong == 0)
        #expect(table.count == n / 2)
    }
}
