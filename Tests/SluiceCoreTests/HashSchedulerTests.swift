// sh, dh and mh: the same seed and servers give the same choice in every Scheduler (every worker,
// every gateway); another seed gives another mapping. Maglev: removing one of N = 10 servers moves
// about 1/N of 100 000 clients (asserted ≤ 2/N), the table is balanced (each server's slots within
// ±5 % of its weight share at M = 65537), mh_fallback moves only the clients of a quiescent server.

import SluiceCore
import SluicePacket
import Testing

@Suite struct HashSchedulerTests {
    static let weights: [UInt32] = [3, 1, 2, 2, 1]

    static func picks(_ s: inout Scheduler, _ clients: [SimulatedClient], byVIP: Bool = false) -> [Int] {
        clients.map { SchedulerFixtures.pick(&s, $0, vip: byVIP ? $0.address : SchedulerFixtures.vip) }
    }

    @Test(arguments: [SchedulerKind.sh, .dh, .mh])
    func sameSeedSameChoiceOtherSeedOtherChoice(kind: SchedulerKind) {
        let clients = SchedulerFixtures.clients(10_000, seed: 3)
        var a = SchedulerFixtures.scheduler(kind, Self.weights, seed: 42)
        var b = SchedulerFixtures.scheduler(kind, Self.weights, seed: 42)
        var c = SchedulerFixtures.scheduler(kind, Self.weights, seed: 43)
        let pa = Self.picks(&a, clients, byVIP: kind == .dh)
        let pb = Self.picks(&b, clients, byVIP: kind == .dh)
        let pc = Self.picks(&c, clients, byVIP: kind == .dh)
        #expect(pa == pb)
        let differing = zip(pa, pc).filter { $0 != $1 }.count
        // Two independent mappings agree on Σ share² ≈ 24 % of the clients.
        #expect(differing > clients.count / 2, "\(kind): \(differing) differ")
        // And the same client always gets the same server (no hidden state).
        #expect(Self.picks(&a, clients, byVIP: kind == .dh) == pa)
    }

    @Test func sourceHashIgnoresThePortAndDestinationHashTheClient() {
        var sh = SchedulerFixtures.scheduler(.sh, Self.weights)
        var dh = SchedulerFixtures.scheduler(.dh, Self.weights)
        let client = SchedulerFixtures.clients(1)[0]
        let sPick = SchedulerFixtures.pick(&sh, client)
        let dPick = SchedulerFixtures.pick(&dh, client)
        for c in SchedulerFixtures.clients(1_000, seed: 9) {
            #expect(SchedulerFixtures.pick(&sh, SimulatedClient(address: client.address, port: c.port)) == sPick)
            #expect(SchedulerFixtures.pick(&dh, c) == dPick, "dh: one VIP, one server")
        }
    }

    @Test func maglevPortFlagSpreadsOneClient() {
        let client = SchedulerFixtures.clients(1)[0]
        let ports = SchedulerFixtures.clients(1_000, seed: 5).map {
            SimulatedClient(address: client.address, port: $0.port)
        }
        var plain = SchedulerFixtures.scheduler(.mh, Self.weights)
        var withPort = SchedulerFixtures.scheduler(.mh, Self.weights, port: true)
        #expect(Set(Self.picks(&plain, ports)).count == 1)
        #expect(Set(Self.picks(&withPort, ports)).count == Self.weights.count)
    }

    @Test func maglevRemovingOneOfTenServersMovesAboutATenth() {
        let n = 10
        let all = SchedulerFixtures.servers(Array(repeating: 1, count: n))
        var before = Scheduler(kind: .mh, servers: all, options: SchedulerOptions(seed: 7))
        var remaining = all
        remaining.remove(at: 4)
        var after = Scheduler(kind: .mh, servers: remaining, options: SchedulerOptions(seed: 7))
        let clients = SchedulerFixtures.clients(100_000, seed: 11)
        var moved = 0
        var onRemoved = 0
        for c in clients {
            let old = all[SchedulerFixtures.pick(&before, c)].address
            let new = remaining[SchedulerFixtures.pick(&after, c)].address
            if old == all[4].address { onRemoved += 1 }
            if old != new { moved += 1 }
        }
        #expect(moved >= onRemoved, "every client of the removed server moves")
        #expect(moved <= 2 * clients.count / n, "moved \(moved) of \(clients.count)")
        #expect(abs(Double(onRemoved) / Double(clients.count) - 0.1) < 0.01)
    }

    @Test(arguments: [[UInt32](repeating: 1, count: 10), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [100, 50, 25, 1000]])
    func maglevTableIsBalanced(weights: [UInt32]) {
        let s = SchedulerFixtures.scheduler(.mh, weights)
        #expect(s.tableSize == 65537)
        let slots = s.tableSlots
        #expect(slots.reduce(0, +) == 65537)
        let expected = SchedulerFixtures.weightShares(weights)
        for i in weights.indices {
            let share = Double(slots[i]) / 65537
            #expect(abs(share / expected[i] - 1) <= 0.05, "server \(i): \(share) vs \(expected[i])")
        }
    }

    @Test func maglevTableSizeIsConfigurable() {
        let s = SchedulerFixtures.scheduler(.mh, [1, 1], tableSize: 251)
        #expect(s.tableSize == 251)
        #expect(s.tableSlots.allSatisfy { $0 > 100 })
        #expect(SchedulerServers.isPrime(65537) && SchedulerServers.isPrime(251) && !SchedulerServers.isPrime(65535))
    }

    @Test func maglevFallbackMovesOnlyAQuiescentServersClients() {
        let weights = [UInt32](repeating: 1, count: 10)
        let clients = SchedulerFixtures.clients(100_000, seed: 13)
        var strict = SchedulerFixtures.scheduler(.mh, weights)
        var fallback = SchedulerFixtures.scheduler(.mh, weights, fallback: true)
        let before = Self.picks(&strict, clients)
        #expect(Self.picks(&fallback, clients) == before)
        var drained = weights
        drained[3] = 0
        strict.updateWeights(drained)
        fallback.updateWeights(drained)
        let strictAfter = Self.picks(&strict, clients)
        let fallbackAfter = Self.picks(&fallback, clients)
        var movedTo = Set<Int>()
        for i in clients.indices {
            if before[i] == 3 {
                #expect(strictAfter[i] == -1, "without mh_fallback the client is refused (IPVS)")
                #expect(fallbackAfter[i] != 3 && fallbackAfter[i] >= 0)
                movedTo.insert(fallbackAfter[i])
            } else {
                #expect(strictAfter[i] == before[i])
                #expect(fallbackAfter[i] == before[i], "the table kept the quiescent server's slots")
            }
        }
        #expect(movedTo.count == 9, "the fallback spreads them over every other server")
    }

    @Test func maglevTakesADownServerOutOfTheTable() {
        let clients = SchedulerFixtures.clients(20_000, seed: 17)
        var list = SchedulerFixtures.servers([1, 1, 1, 1])
        var s = Scheduler(kind: .mh, servers: list)
        let before = Self.picks(&s, clients)
        list[2].isUp = false
        s.update(servers: list, previousIndex: [0, 1, 2, 3])
        #expect(s.tableSlots[2] == 0)
        let after = Self.picks(&s, clients)
        #expect(!after.contains(2) && !after.contains(-1))
        let moved = zip(before, after).filter { $0 != $1 }.count
        #expect(moved < clients.count * 35 / 100, "about a quarter moves: \(moved)")
        // A server added at weight 0 takes no slot either.
        let added = Scheduler(kind: .mh, servers: SchedulerFixtures.servers([1, 0, 1]))
        #expect(added.tableSlots[1] == 0)
    }

    @Test func hashTablesFollowWeightChanges() {
        var s = SchedulerFixtures.scheduler(.sh, [1, 1])
        #expect(s.tableSize == SchedulerServers.hashBucketCount)
        #expect(s.tableSlots == [2048, 2048])
        s.updateWeights([100, 50])
        let slots = s.tableSlots
        #expect(abs(Double(slots[0]) / Double(slots[1]) - 2) < 0.01)
        s.updateWeights([0, 50])
        #expect(s.tableSlots == [0, 4096])
    }
}
