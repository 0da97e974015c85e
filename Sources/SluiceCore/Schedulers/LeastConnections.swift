// lc (net/netfilter/ipvs/ip_vs_lc.c): the server with the least overhead active·256 + inactive,
// weights ignored except that weight 0 is never picked; ties go to the earlier server.

/// IPVS least connections.
@usableFromInline
struct LeastConnections: SchedulingAlgorithm {
    @usableFromInline init() {}

    @inlinable
    mutating func pick(_ servers: borrowing SchedulerServers, flow: SchedulingFlow) -> Int? {
        var best = -1
        var bestOverhead = UInt64.max
        for i in 0..<servers.count where servers.isAvailable(i) {
            let overhead = UInt64(servers.active[i]) &* 256 &+ UInt64(servers.inactive[i])
            if best < 0 || overhead < bestOverhead {
                best = i
                bestOverhead = overhead
            }
        }
        return best < 0 ? nil : best
    }
}
