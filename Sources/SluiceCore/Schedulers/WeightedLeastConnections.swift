// wlc (net/netfilter/ipvs/ip_vs_wlc.c): the minimum of (active·256 + inactive) / weight, compared by
// cross-multiplication in 128 bits; ties go to the earlier server, as in IPVS.

/// IPVS weighted least connections.
@usableFromInline
struct WeightedLeastConnections: SchedulingAlgorithm {
    @usableFromInline init() {}

    @inlinable
    mutating func pick(_ servers: borrowing SchedulerServers, flow: SchedulingFlow) -> Int? {
        var best = -1
        var bestOverhead: UInt64 = 0
        for i in 0..<servers.count where servers.isAvailable(i) {
            let overhead = UInt64(servers.active[i]) &* 256 &+ UInt64(servers.inactive[i])
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
