// Schedulers with IPVS semantics: rr and wrr are exact per cycle, wrr interleaves, wlc follows its
// counters, weight 0 is never picked, all-zero weights give nil, reloads keep counters.

import SluiceCore
import Testing

@Suite struct SchedulerTests {
    static func picks(_ s: inout Scheduler, _ n: Int) -> [Int] {
        (0..<n).map { _ in s.pick() ?? -1 }
    }

    static func counts(_ picks: [Int], servers: Int) -> [Int] {
        var c = Array(repeating: 0, count: servers)
        for p in picks { c[p] += 1 }
        return c
    }

    @Test func roundRobinSkipsQuiescentServers() {
        var s = Scheduler(kind: .rr, weights: [1, 0, 5, 1])
        #expect(Self.picks(&s, 6) == [0, 2, 3, 0, 2, 3])
        var even = Scheduler(kind: .rr, weights: [3, 3, 3])
        #expect(Self.counts(Self.picks(&even, 30_000), servers: 3) == [10_000, 10_000, 10_000])
    }

    @Test func weightedRoundRobinInterleaves() {
        var s = Scheduler(kind: .wrr, weights: [5, 3, 2])
        // IPVS wrr: cw steps 5,4,3,2,1 — A A A B A B C A B C.
        #expect(Self.picks(&s, 10) == [0, 0, 0, 1, 0, 1, 2, 0, 1, 2])
        #expect(Self.picks(&s, 10) == [0, 0, 0, 1, 0, 1, 2, 0, 1, 2])
    }

    @Test(arguments: [[5, 3, 2], [4, 2, 0, 6], [1, 1, 1, 1], [100, 1], [7, 0, 0], [0, 9, 3, 6]] as [[UInt32]])
    func weightedRoundRobinIsExactPerCycle(weights: [UInt32]) {
        var s = Scheduler(kind: .wrr, weights: weights)
        var g: UInt32 = 0
        for w in weights where w > 0 {
            var (a, b) = (g, w)
            while b != 0 { (a, b) = (b, a % b) }
            g = a
        }
        let cycle = Int(weights.reduce(0, +) / g)
        let cycles = max(1, 30_000 / cycle)
        let all = Self.picks(&s, cycle * cycles)
        for k in 0..<cycles {
            let window = Array(all[(k * cycle)..<((k + 1) * cycle)])
            #expect(Self.counts(window, servers: weights.count) == weights.map { Int($0 / g) }, "cycle \(k)")
        }
    }

    @Test func zeroWeightsMeanNoNewConnections() {
        for kind in SchedulerKind.allCases {
            var zero = Scheduler(kind: kind, weights: [0, 0, 0])
            #expect(zero.pick() == nil, "\(kind)")
            var empty = Scheduler(kind: kind, weights: [])
            #expect(empty.pick() == nil, "\(kind)")
            var one = Scheduler(kind: kind, weights: [0, 0, 4])
            #expect(Set(Self.picks(&one, 50)) == [2], "\(kind)")
        }
    }

    @Test func weightedLeastConnectionsFollowsWeights() {
        var s = Scheduler(kind: .wlc, weights: [1, 2])
        var picks: [Int] = []
        for _ in 0..<3_000 {
            let p = s.pick()!
            s.connectionOpened(p)
            picks.append(p)
        }
        #expect(Array(picks.prefix(6)) == [0, 1, 1, 0, 1, 1])
        #expect(Self.counts(picks, servers: 2) == [1_000, 2_000])
        #expect(s.activeConnections(0) == 1_000)
        #expect(s.activeConnections(1) == 2_000)
    }

    @Test func weightedLeastConnectionsWeighsActive256Times() {
        var s = Scheduler(kind: .wlc, weights: [10, 10, 0])
        s.connectionOpened(0)
        for _ in 0..<200 {
            s.connectionOpened(1)
            s.connectionBecameInactive(1)
        }
        #expect(s.activeConnections(1) == 0)
        #expect(s.inactiveConnections(1) == 200)
        #expect(s.pick() == 1, "200 inactive cost less than 1 active")
        for _ in 0..<100 {
            s.connectionOpened(1)
            s.connectionBecameInactive(1)
        }
        #expect(s.pick() == 0, "300 inactive cost more than 1 active")
        // Closing connections lowers the load; the weight-0 server stays out however idle.
        for _ in 0..<300 { s.connectionClosed(1, wasActive: false) }
        #expect(s.inactiveConnections(1) == 0)
        #expect(s.pick() == 1)
        s.connectionClosed(0, wasActive: true)
        #expect(s.pick() == 0, "tie goes to the first server")
        // A connection created outside ESTABLISHED (SYN_RECV) can be counted inactive at once.
        s.connectionOpened(1, active: false)
        #expect(s.inactiveConnections(1) == 1)
        s.connectionBecameActive(1)
        #expect(s.inactiveConnections(1) == 0)
        #expect(s.activeConnections(1) == 1)
        s.connectionClosed(1, wasActive: true)
        // Stray reports never wrap the counters or trap.
        s.connectionClosed(0, wasActive: true)
        s.connectionBecameInactive(2)
        s.connectionBecameActive(2)
        s.connectionOpened(99)
        #expect(s.activeConnections(0) == 0)
        #expect(s.activeConnections(2) == 1)
        #expect(s.inactiveConnections(2) == 0)
    }

    @Test func reloadKeepsCountersOfRemainingServers() {
        var s = Scheduler(kind: .wlc, weights: [1, 1])
        for _ in 0..<3 { s.connectionOpened(0) }
        s.connectionOpened(1)
        s.connectionBecameInactive(1)
        s.updateWeights([1, 1, 1])
        #expect(s.serverCount == 3)
        #expect(s.activeConnections(0) == 3)
        #expect(s.inactiveConnections(1) == 1)
        #expect(s.activeConnections(2) == 0)
        #expect(s.pick() == 2)
        // Reordered list: new server i inherits old server previousIndex[i]'s counters.
        s.updateWeights([5, 5], previousIndex: [1, 0])
        #expect(s.activeConnections(1) == 3)
        #expect(s.inactiveConnections(0) == 1)
        #expect(s.weight(0) == 5)
        // Draining to weight 0 keeps the counters but stops new picks.
        s.updateWeights([0, 0])
        #expect(s.pick() == nil)
        #expect(s.activeConnections(1) == 3)
    }

    @Test func wrrRestartsItsCycleAfterReload() {
        var s = Scheduler(kind: .wrr, weights: [1, 1])
        _ = Self.picks(&s, 3)
        s.updateWeights([2, 1])
        #expect(Self.picks(&s, 6) == [0, 0, 1, 0, 0, 1])
        s.updateWeights([0, 1])
        #expect(Self.picks(&s, 3) == [1, 1, 1])
    }
}
