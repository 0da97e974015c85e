// Every scheduler over 100 000 simulated new connections from random clients (seeded): the shares
// follow the weights (rr and lc ignore them: equal shares), a quiescent server gets nothing.
// Tolerance: ±1.5 percentage points of each server's share (sampling alone gives about ±0.5 at 3σ;
// sh/dh/mh add the rounding of their tables), exact for wrr.

import SluiceCore
import SluicePacket
import Testing

@Suite struct SchedulerDistributionTests {
    static let weights: [UInt32] = [5, 0, 3, 2]
    static let connections = 100_000
    static let tolerance = 0.015

    /// Simulates connections that end after `lifetime` newer ones were opened (FIFO), counting each
    /// active while open, so the least-connection schedulers see a steady load.
    static func simulate(_ kind: SchedulerKind, lifetime: Int = 1_000) -> [Double] {
        var s = SchedulerFixtures.scheduler(kind, weights)
        let clients = SchedulerFixtures.clients(connections)
        var open: [Int] = []
        open.reserveCapacity(connections)
        var picks: [Int] = []
        for (n, client) in clients.enumerated() {
            let vip = kind == .dh ? client.address : SchedulerFixtures.vip  // dh: many services' VIPs
            let p = SchedulerFixtures.pick(&s, client, vip: vip)
            picks.append(p)
            guard p >= 0 else { continue }
            s.connectionOpened(p, active: true)
            open.append(p)
            if n >= lifetime { s.connectionClosed(open[n - lifetime], wasActive: true) }
        }
        #expect(!picks.contains(-1), "\(kind) always finds a server")
        return SchedulerFixtures.shares(picks, servers: weights.count)
    }

    @Test(arguments: [SchedulerKind.wrr, .wlc, .sed, .nq, .sh, .dh, .mh])
    func sharesFollowTheWeights(kind: SchedulerKind) {
        let shares = Self.simulate(kind)
        let expected = SchedulerFixtures.weightShares(Self.weights)
        #expect(shares[1] == 0, "\(kind): the quiescent server gets nothing")
        for i in shares.indices {
            #expect(
                abs(shares[i] - expected[i]) <= Self.tolerance, "\(kind) server \(i): \(shares[i]) vs \(expected[i])")
        }
    }

    @Test(arguments: [SchedulerKind.rr, .lc])
    func unweightedSchedulersShareEqually(kind: SchedulerKind) {
        let shares = Self.simulate(kind)
        #expect(shares[1] == 0)
        for i in [0, 2, 3] {
            #expect(abs(shares[i] - 1.0 / 3) <= Self.tolerance, "\(kind) server \(i): \(shares[i])")
        }
    }

    @Test func weightedRoundRobinIsExact() {
        let shares = Self.simulate(.wrr)
        #expect(shares == [0.5, 0, 0.3, 0.2])
    }

    @Test func allZeroOrNoServersGiveNilForEveryScheduler() {
        let client = SchedulerFixtures.clients(1)[0]
        for kind in SchedulerKind.allCases {
            var zero = SchedulerFixtures.scheduler(kind, [0, 0, 0])
            #expect(SchedulerFixtures.pick(&zero, client) == -1, "\(kind)")
            var none = SchedulerFixtures.scheduler(kind, [])
            #expect(SchedulerFixtures.pick(&none, client) == -1, "\(kind)")
        }
    }

    @Test(arguments: SchedulerKind.allCases)
    func aServerDrainedToZeroGetsNothingMore(kind: SchedulerKind) {
        var s = SchedulerFixtures.scheduler(kind, [1, 1, 1], fallback: true)
        s.updateWeights([1, 0, 1])
        let clients = SchedulerFixtures.clients(10_000, seed: 7)
        let picks = clients.map { SchedulerFixtures.pick(&s, $0, vip: $0.address) }
        #expect(!picks.contains(1), "\(kind)")
        #expect(!picks.contains(-1), "\(kind)")
    }
}
