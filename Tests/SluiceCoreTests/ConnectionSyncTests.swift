// Connection sync in the data plane: a connection established on gateway A, sent to gateway B as
// records, translates the next frames on B byte for byte as on A (both directions, timestamps and
// SACK); state changes and the removal follow; half-open entries and unanswered UDP flows are not
// sent; B refuses a record for a service it lacks, for one of its own LIPs, or for a tuple one of its
// own connections holds; a synced entry holds no port and counts in no budget of B's.

import SluiceCore
import SluicePacket
import SluiceTestKit
import Testing

@Suite struct ConnectionSyncTests {
    let network = Topology.network()
    static let lipB = Topology.ip("10.20.0.250")

    func gateway(lips: [IPAddress]) -> Dataplane {
        var c = Topology.configuration(lips: lips)
        c.syncOutboxCapacity = 64
        return Topology.dataplane(c)
    }

    func fromClient(seq: UInt32, ack: UInt32, flags: UInt8, ts: UInt32, payload: [UInt8] = []) -> [UInt8] {
        PacketBuilder().ethernet(src: Topology.clientMAC, dst: Topology.extMAC)
            .ipv4(src: Topology.client, dst: Topology.vip)
            .tcp(
                sport: 40000, dport: 80, seq: seq, ack: ack, flags: flags,
                options: [.nop, .nop, .timestamps(val: ts, ecr: 42)], payload: payload
            ).build()
    }

    /// Opens a connection on `a` up to ESTABLISHED; the SYN as forwarded.
    func establish(_ a: inout Dataplane) -> Processed {
        let syn = PacketBuilder().ethernet(src: Topology.clientMAC, dst: Topology.extMAC)
            .ipv4(src: Topology.client, dst: Topology.vip)
            .tcp(
                sport: 40000, dport: 80, seq: 1_000_000, flags: TCPFlag.syn,
                options: [.mss(1460), .sackPermitted, .timestamps(val: 5000, ecr: 0), .nop, .windowScale(7)]
            ).build()
        let out = a.run(syn, from: .external, now: 10_000, network: network)
        let rsISN = out.frame.u32(out.info.l4Offset + 4)
        let synAck = PacketBuilder().ethernet(src: Topology.routerMAC, dst: Topology.intMAC)
            .ipv4(src: out.info.destination, dst: out.info.source)
            .tcp(
                sport: 8080, dport: out.info.sourcePort, seq: 777_000, ack: rsISN &+ 1,
                flags: TCPFlag.syn | TCPFlag.ack,
                options: [.mss(1460), .sackPermitted, .timestamps(val: 42, ecr: 10_000), .nop, .windowScale(7)]
            ).build()
        _ = a.run(synAck, from: .internal, now: 10_001, network: network)
        _ = a.run(
            fromClient(seq: 1_000_001, ack: 777_001, flags: TCPFlag.ack, ts: 5001), from: .external, now: 10_002,
            network: network)
        return out
    }

    @Test func aSyncedEntryTranslatesLikeTheOriginal() {
        var a = gateway(lips: Topology.lips)
        var b = gateway(lips: [Self.lipB])
        let syn = establish(&a)
        let records = a.takeSyncEvents(now: 10_002)
        #expect(records.map(\.kind) == [.update], "one event: ESTABLISHED (the half-open states sent nothing)")
        #expect(records.first?.connection.state == .established)
        #expect(a.counters[.syncEventsQueued] == 1)
        // Through the wire format and back.
        let message = SyncMessage(kind: .entries, epoch: 1, sequence: 1, records: records)
        guard case .success(let received) = SyncMessage.decode(message.encode(key: (7, 8)), key: (7, 8)) else {
            Issue.record("the message did not decode")
            return
        }
        b.installSynced(received.records, now: 10_002)
        #expect(b.counters[.syncEntriesInstalled] == 1)
        #expect(b.connectionCount == 1)
        #expect(b.localPortUsage.inUse == 0, "a synced entry holds none of B's ports")

        // Client data, then the server's SACK reply, on both gateways: the same bytes out.
        let data = fromClient(
            seq: 1_000_001, ack: 777_001, flags: TCPFlag.ack | TCPFlag.psh, ts: 5002, payload: Array("GET /\r\n".utf8))
        let onA = a.run(data, from: .external, now: 10_003, network: network)
        let onB = b.run(data, from: .external, now: 10_003, network: network)
        #expect(onA.verdict == .transmit(.internal))
        #expect(onB.verdict == onA.verdict)
        #expect(onB.frame == onA.frame, "byte for byte")
        let rsISN = syn.frame.u32(syn.info.l4Offset + 4)
        let reply = PacketBuilder().ethernet(src: Topology.routerMAC, dst: Topology.intMAC)
            .ipv4(src: syn.info.destination, dst: syn.info.source)
            .tcp(
                sport: 8080, dport: syn.info.sourcePort, seq: 777_001, ack: rsISN &+ 8, flags: TCPFlag.ack,
                options: [.nop, .nop, .sack([(rsISN &+ 100, rsISN &+ 200)])], payload: Array("HTTP/1.0 200\r\n".utf8)
            ).build()
        let backA = a.run(reply, from: .internal, now: 10_004, network: network)
        let backB = b.run(reply, from: .internal, now: 10_004, network: network)
        #expect(backA.verdict == .transmit(.external))
        #expect(backB.verdict == backA.verdict)
        #expect(backB.frame == backA.frame, "byte for byte")
    }

    @Test func stateChangesAndTheRemovalFollow() {
        var a = gateway(lips: Topology.lips)
        var b = gateway(lips: [Self.lipB])
        _ = establish(&a)
        b.installSynced(a.takeSyncEvents(now: 10_002), now: 10_002)
        _ = a.run(
            fromClient(seq: 1_000_001, ack: 777_001, flags: TCPFlag.ack | TCPFlag.fin, ts: 5003), from: .external,
            now: 10_005, network: network)
        let closing = a.takeSyncEvents(now: 10_005)
        #expect(closing.map(\.kind) == [.update])
        #expect(closing.first.map { $0.connection.state != .established } == true)
        b.installSynced(closing, now: 10_005)
        #expect(b.counters[.syncEntriesUpdated] == 1)
        // A's entry expires; the removal reaches B.
        a.advance(now: 200_000)
        #expect(a.connectionCount == 0)
        let gone = a.takeSyncEvents(now: 200_000)
        #expect(gone.map(\.kind) == [.remove])
        b.installSynced(gone, now: 10_006)
        #expect(b.counters[.syncEntriesRemoved] == 1)
        #expect(b.connectionCount == 0)
    }

    @Test func aRoundSendsOnlyEachConnectionsLastEvent() {
        var a = gateway(lips: Topology.lips)
        _ = establish(&a)
        _ = a.run(
            fromClient(seq: 1_000_001, ack: 777_001, flags: TCPFlag.ack | TCPFlag.fin, ts: 5003), from: .external,
            now: 10_005, network: network)
        a.advance(now: 200_000)
        // ESTABLISHED, the closing state and the removal, all in one round: only the removal goes.
        #expect(a.counters[.syncEventsQueued] == 3)
        let events = a.takeSyncEvents(now: 200_000)
        #expect(events.map(\.kind) == [.remove])
        #expect(a.counters[.syncUpdatesCoalesced] == 2)
        #expect(a.counters[.syncRemovalsCoalesced] == 0)
    }

    @Test func halfOpenAndUnansweredFlowsAreNotSent() {
        var a = gateway(lips: Topology.lips)
        for port in UInt16(1)...UInt16(50) {
            let syn = PacketBuilder().ethernet(src: Topology.clientMAC, dst: Topology.extMAC)
                .ipv4(src: Topology.client, dst: Topology.vip).tcp(sport: port, dport: 80, seq: 1, flags: TCPFlag.syn)
                .build()
            _ = a.run(syn, from: .external, now: 1_000, network: network)
        }
        let query = PacketBuilder().ethernet(src: Topology.clientMAC, dst: Topology.extMAC)
            .ipv4(src: Topology.client, dst: Topology.vip).udp(sport: 5353, dport: 53, payload: [1]).build()
        let q = a.run(query, from: .external, now: 1_000, network: network)
        #expect(a.takeSyncEvents(now: 1_000).isEmpty)
        // The half-open entries expire: no removals either.
        a.advance(now: 3_000)
        #expect(a.takeSyncEvents(now: 3_000).isEmpty)
        // The UDP flow's server answers: now it is worth a peer's table.
        let answer = PacketBuilder().ethernet(src: Topology.routerMAC, dst: Topology.intMAC)
            .ipv4(src: q.info.destination, dst: q.info.source)
            .udp(sport: q.info.destinationPort, dport: q.info.sourcePort, payload: [2]).build()
        _ = a.run(answer, from: .internal, now: 3_000, network: network)
        let events = a.takeSyncEvents(now: 3_000)
        #expect(events.map(\.connection.state) == [.udpNormal])
        // A synced UDP flow on B counts in none of B's budgets: B's own flows still open to the limit.
        var b = gateway(lips: [Self.lipB])
        b.installSynced(events, now: 3_000)
        #expect(b.counters[.syncEntriesInstalled] == 1)
        #expect(b.localPortUsage.inUse == 0)
    }

    @Test func refusals() {
        var a = gateway(lips: Topology.lips)
        _ = establish(&a)
        let record = a.takeSyncEvents(now: 10_002)[0]
        // A gateway with the same LIPs must not take them: they would collide with its own ports.
        var same = gateway(lips: Topology.lips)
        same.installSynced([record], now: 10_002)
        #expect(same.counters[.syncRefusedOwnLocalAddress] == 1)
        #expect(same.connectionCount == 0)
        // A gateway without the virtual server.
        var other = record
        other.connection.vport = 8443
        var b = gateway(lips: [Self.lipB])
        b.installSynced([other], now: 10_002)
        #expect(b.counters[.syncRefusedNoService] == 1)
        // B's own connection on the same client tuple wins over the peer's record, and a removal of
        // something B does not hold is nothing.
        _ = establish(&b)
        b.installSynced([record], now: 10_002)
        #expect(b.counters[.syncRefusedOwnTuple] == 1)
        var removal = record
        removal.kind = .remove
        removal.connection.clientPort = 1
        b.installSynced([removal], now: 10_002)
        #expect(b.counters[.syncRefusedOwnTuple] == 1)
        #expect(b.connectionCount == 1)
        // Synced entries are not sent on.
        var c = gateway(lips: [Topology.ip("10.20.0.251")])
        c.installSynced([record], now: 10_002)
        c.advance(now: 500_000)
        #expect(c.connectionCount == 0)
        #expect(c.takeSyncEvents(now: 500_000).isEmpty)
    }

    @Test func theRefreshWalkSendsLiveConnectionsInSlices() {
        var a = gateway(lips: Topology.lips)
        _ = establish(&a)
        var start: ConnectionID? = 0
        var records: [SyncRecord] = []
        while let from = start {
            let slice = a.syncSnapshot(from: from, slots: 1000, now: 10_002)
            records += slice.records
            start = slice.next
        }
        #expect(records.count == 1)
        #expect(records.first?.idleMilliseconds ?? 0 > 60_000, "an established entry's idle time (90 s)")
    }
}
