// Connection sync's decisions under a manual clock (SyncEngine): datagrams only from configured peers,
// with the group's key, never twice; records and bulk requests delivered; a silent peer dies after
// `dead_after` and its LIPs (from its heartbeats) are adopted; a peer that says it is leaving dies at
// once; a peer back gets its LIPs back once its bulk request has been answered, or after it has been
// alive for `dead_after` if that never happens.

import SluiceControl
import SluiceCore
import SluicePacket
import SluiceTestKit
import Testing

@Suite struct SyncEngineTests {
    typealias Instant = TestClock.Instant
    static let key: (UInt64, UInt64) = (11, 22)
    static let peerA = SyncOptions.Endpoint(address: IPAddress("10.99.0.1")!, port: 8848)
    static let peerB = SyncOptions.Endpoint(address: IPAddress("10.99.0.2")!, port: 8848)
    static let lipA = IPAddress("10.54.1.240")!

    func at(_ ms: Int) -> Instant { Instant(offset: .milliseconds(ms)) }

    /// The local gateway (peer B's view has A as its peer) and A's sending side.
    func pair() -> (local: SyncEngine<Instant>, remote: SyncEngine<Instant>) {
        (
            SyncEngine(key: Self.key, epoch: 1_000, peers: [Self.peerA], deadAfter: .seconds(3)),
            SyncEngine(key: Self.key, epoch: 2_000, peers: [Self.peerB], deadAfter: .seconds(3))
        )
    }

    func record() -> SyncRecord {
        let c = Connection(
            client: IPAddress("198.51.100.2")!, clientPort: 40_000, vip: IPAddress("203.0.113.50")!, vport: 80,
            local: Self.lipA, localPort: 2000, real: IPAddress("10.53.0.11")!, realPort: 8080, transport: 6,
            state: .established, serviceIndex: 0, realServerIndex: 0, expiresAt: 0)
        return SyncRecord(kind: .update, connection: c, idleMilliseconds: 90_000)
    }

    @Test func recordsAndBulkRequestsAreDeliveredOnce() {
        var (local, remote) = pair()
        let datagrams = remote.seal(.entries, records: Array(repeating: record(), count: 30))
        #expect(datagrams.count == 3, "12 records a datagram")
        var delivered = 0
        for d in datagrams {
            if case .records(let r) = local.receive(d, from: Self.peerA, at: at(0)) { delivered += r.count }
        }
        #expect(delivered == 30)
        #expect(local.receive(datagrams[0], from: Self.peerA, at: at(1)) == .nothing, "a replay")
        #expect(local.refused["replay"] == 1)
        let bulk = remote.seal(.bulkRequest)[0]
        #expect(local.receive(bulk, from: Self.peerA, at: at(2)) == .bulkRequest(Self.peerA))
        #expect(local.datagramsReceived == 4)
        #expect(local.recordsReceived == 30)
    }

    @Test func strangersAndOtherKeysAreRefused() {
        var (local, remote) = pair()
        let datagram = remote.seal(.heartbeat, addresses: [Self.lipA])[0]
        let stranger = SyncOptions.Endpoint(address: IPAddress("10.99.0.9")!, port: 8848)
        #expect(local.receive(datagram, from: stranger, at: at(0)) == .nothing)
        #expect(
            local.receive(datagram, from: SyncOptions.Endpoint(address: Self.peerA.address, port: 1), at: at(0))
                == .nothing)
        #expect(local.refused["unknown_peer"] == 2)
        var forger = SyncEngine<Instant>(key: (1, 2), epoch: 5_000, peers: [Self.peerB], deadAfter: .seconds(3))
        #expect(local.receive(forger.seal(.leaving)[0], from: Self.peerA, at: at(0)) == .nothing)
        #expect(local.refused["tag"] == 1)
        #expect(local.peers[0].alive == false, "nothing refused counts as a sign of life")
    }

    @Test func aSilentPeerDiesAndItsLIPsAreAdoptedThenGivenBack() {
        var (local, remote) = pair()
        _ = local.receive(remote.seal(.heartbeat, addresses: [Self.lipA])[0], from: Self.peerA, at: at(0))
        #expect(local.peers[0].alive)
        #expect(local.tick(at: at(2_999)).isEmpty)
        #expect(local.tick(at: at(3_000)) == [.lost(Self.peerA, adopted: [Self.lipA])])
        #expect(local.adoptedLocalAddresses == [Self.lipA])
        #expect(local.tick(at: at(10_000)).isEmpty, "lost once")
        // The peer restarts (a newer epoch) and asks for the table: alive again, LIPs still adopted
        // until it has been back for dead_after.
        var restarted = SyncEngine<Instant>(key: Self.key, epoch: 9_000, peers: [Self.peerB], deadAfter: .seconds(3))
        #expect(
            local.receive(restarted.seal(.bulkRequest)[0], from: Self.peerA, at: at(20_000)) == .bulkRequest(Self.peerA)
        )
        _ = local.receive(restarted.seal(.heartbeat, addresses: [Self.lipA])[0], from: Self.peerA, at: at(21_000))
        #expect(local.tick(at: at(21_000)).isEmpty)
        #expect(local.adoptedLocalAddresses == [Self.lipA])
        _ = local.receive(restarted.seal(.heartbeat, addresses: [Self.lipA])[0], from: Self.peerA, at: at(22_500))
        #expect(local.tick(at: at(23_000)) == [.back(Self.peerA, returned: [Self.lipA])])
        #expect(local.adoptedLocalAddresses.isEmpty)
        // The old run's datagrams are replays now.
        #expect(local.receive(remote.seal(.heartbeat)[0], from: Self.peerA, at: at(23_100)) == .nothing)
        #expect(local.refused["replay"] == 1)
    }

    @Test func aPeerWhoseBulkRequestIsAnsweredGetsItsLIPsBackAtOnce() {
        var (local, remote) = pair()
        _ = local.receive(remote.seal(.heartbeat, addresses: [Self.lipA])[0], from: Self.peerA, at: at(0))
        _ = local.receive(remote.seal(.leaving)[0], from: Self.peerA, at: at(100))
        #expect(local.tick(at: at(100)) == [.lost(Self.peerA, adopted: [Self.lipA])])
        var restarted = SyncEngine<Instant>(key: Self.key, epoch: 9_000, peers: [Self.peerB], deadAfter: .seconds(3))
        #expect(
            local.receive(restarted.seal(.bulkRequest)[0], from: Self.peerA, at: at(5_000)) == .bulkRequest(Self.peerA))
        #expect(local.tick(at: at(5_000)).isEmpty, "not before its table was sent")
        local.answeredBulkRequest(of: Self.peerA)
        #expect(local.tick(at: at(5_100)) == [.back(Self.peerA, returned: [Self.lipA])])
        #expect(local.adoptedLocalAddresses.isEmpty)
    }

    @Test func aLeavingPeerIsLostAtOnce() {
        var (local, remote) = pair()
        _ = local.receive(remote.seal(.heartbeat, addresses: [Self.lipA])[0], from: Self.peerA, at: at(0))
        _ = local.receive(remote.seal(.leaving)[0], from: Self.peerA, at: at(100))
        #expect(local.tick(at: at(100)) == [.lost(Self.peerA, adopted: [Self.lipA])])
    }

    @Test func aPeerNeverHeardIsNotAdopted() {
        var (local, _) = pair()
        #expect(local.tick(at: at(60_000)).isEmpty)
        #expect(local.adoptedLocalAddresses.isEmpty)
    }
}
