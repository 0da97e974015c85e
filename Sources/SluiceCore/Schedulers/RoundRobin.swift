// rr (net/netfilter/ipvs/ip_vs_rr.c): the next server after the last one picked whose weight is > 0.

/// IPVS round robin.
@usableFromInline
struct RoundRobin: SchedulingAlgorithm {
    /// Index of the last server picked (-1 before the first pick).
    @usableFromInline var position = -1

    @usableFromInline init() {}

    @inlinable
    mutating func pick(_ servers: borrowing SchedulerServers, flow: SchedulingFlow) -> Int? {
        let n = servers.count
        var i = position
        for _ in 0..<n {
            i += 1
            if i >= n { i = 0 }
            if servers.isAvailable(i) {
                position = i
                return i
            }
        }
        return nil
    }

    /// rr continues after the same index, unless the list got shorter than that.
    @usableFromInline
    mutating func serversChanged(_ servers: inout SchedulerServers) {
        if position >= servers.count { position = -1 }
    }
}
