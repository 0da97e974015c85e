// nq (net/netfilter/ipvs/ip_vs_nq.c): the first server with no active connection, at once; when every
// server is busy, sed's choice: the minimum (active + 1) / weight, ties to the earlier server.

/// IPVS never queue.
@usableFromInline
struct NeverQueue: SchedulingAlgorithm {
    @usableFromInline init() {}

    @inlinable
    mutating func pick(_ servers: borrowing SchedulerServers, flow: SchedulingFlow) -> Int? {
        var best = -1
        var bestOverhead: UInt64 = 0
        for i in 0..<servers.count where servers.isAvailable(i) {
            if servers.active[i] == 0 { return i }
            let overhead = UInt64(servers.active[i]) &+ 1
            if best < 0
                || SchedulerServers.heavier(
                    bestOverhead, weight: servers.weights[best], than: overhead, weight: servers.weights[i])
            {
                best = i
                bestOverhead = overhead
            }
        }
        return best < 0 ? nil : best
    }
}
