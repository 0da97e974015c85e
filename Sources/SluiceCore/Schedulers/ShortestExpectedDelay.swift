// sed (net/netfilter/ipvs/ip_vs_sed.c): the minimum expected delay (active + 1) / weight; inactive
// connections do not count. Compared by cross-multiplication; ties go to the earlier server.

/// IPVS shortest expected delay.
@usableFromInline
struct ShortestExpectedDelay: SchedulingAlgorithm {
    @usableFromInline init() {}

    @inlinable
    mutating func pick(_ servers: borrowing SchedulerServers, flow: SchedulingFlow) -> Int? {
        var best = -1
        var bestOverhead: UInt64 = 0
        for i in 0..<servers.count where servers.isAvailable(i) {
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
