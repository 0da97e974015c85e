// lc, wlc, sed and nq against IPVS's formulas on crafted counters:
// lc  min active·256 + inactive (weights only exclude 0);  wlc min (active·256 + inactive) / weight;
// sed min (active + 1) / weight;  nq the first server with no active connection, else sed.
// Ties go to the earlier server.

import SluiceCore
import Testing

@Suite struct LeastConnectionSchedulerTests {
    /// A scheduler whose servers have exactly these counts.
    static func loaded(_ kind: SchedulerKind, weights: [UInt32], active: [Int], inactive: [Int]) -> Scheduler {
        var s = Scheduler(kind: kind, weights: weights)
        for i in weights.indices {
            for _ in 0..<active[i] { s.connectionOpened(i, active: true) }
            for _ in 0..<inactive[i] { s.connectionOpened(i, active: false) }
        }
        return s
    }

    @Test func leastConnectionsIgnoresWeights() {
        var s = Self.loaded(.lc, weights: [1, 100, 0], active: [1, 0, 0], inactive: [0, 255, 0])
        #expect(s.pick() == 1, "255 < 256: the weight does not matter")
        s.connectionOpened(1, active: false)
        #expect(s.pick() == 0, "256 = 256: a tie goes to the earlier server")
        var idle = Self.loaded(.lc, weights: [1, 1, 0], active: [0, 0, 0], inactive: [1, 0, 0])
        #expect(idle.pick() == 1, "the weight-0 server is never picked, however idle")
    }

    @Test func weightedLeastConnectionsDividesByWeight() {
        // (1·256 + 0)/1 = 256 vs (2·256 + 0)/3 ≈ 170.7 → server 1.
        var s = Self.loaded(.wlc, weights: [1, 3], active: [1, 2], inactive: [0, 0])
        #expect(s.pick() == 1)
        // 256/1 vs (3·256)/3 = 256: tie → server 0.
        s.connectionOpened(1, active: true)
        #expect(s.pick() == 0)
    }

    @Test func shortestExpectedDelayCountsOnlyActive() {
        // (0+1)/1 = 1 vs (2+1)/3 = 1: tie → server 0.
        var tie = Self.loaded(.sed, weights: [1, 3], active: [0, 2], inactive: [0, 0])
        #expect(tie.pick() == 0)
        // (0+1)/1 = 1 vs (1+1)/3 ≈ 0.67 → server 1, whatever its inactive count.
        var s = Self.loaded(.sed, weights: [1, 3], active: [0, 1], inactive: [0, 1_000])
        #expect(s.pick() == 1)
        // (4+1)/2 = 2.5 vs (9+1)/5 = 2 vs (1+1)/1 = 2 → server 1 (tie with 2, earlier wins).
        var three = Self.loaded(.sed, weights: [2, 5, 1], active: [4, 9, 1], inactive: [0, 0, 0])
        #expect(three.pick() == 1)
    }

    @Test func neverQueuePrefersAnIdleServer() {
        // sed would take server 1 ((5+1)/10 < (0+1)/1), but server 0 has no active connection.
        var s = Self.loaded(.nq, weights: [1, 10], active: [0, 5], inactive: [50, 0])
        #expect(s.pick() == 0, "idle means no active connection; inactive ones do not count")
        // No idle server: sed's formula, (1+1)/1 = 2 vs (5+1)/10 = 0.6 → server 1.
        s.connectionOpened(0, active: true)
        #expect(s.pick() == 1)
        // The first idle server in order wins, before any busier-but-heavier one.
        var order = Self.loaded(.nq, weights: [9, 1, 1], active: [3, 0, 0], inactive: [0, 0, 0])
        #expect(order.pick() == 1)
        // A quiescent idle server does not count.
        var quiescent = Self.loaded(.nq, weights: [1, 0, 2], active: [2, 0, 1], inactive: [0, 0, 0])
        #expect(quiescent.pick() == 2, "(2+1)/1 = 3 vs (1+1)/2 = 1")
    }
}
