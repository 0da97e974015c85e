// wrr (net/netfilter/ipvs/ip_vs_wrr.c): interleaved weighted round robin. A current weight `cw`
// steps down from the maximum weight by the gcd of the weights each time the scan wraps; a server is
// picked when its weight is ≥ cw. Over one cycle of Σw/gcd picks each server gets exactly w/gcd
// picks, spread out (weights 5,3,2 give A A A B A B C A B C), not in bursts.

/// IPVS interleaved weighted round robin.
@usableFromInline
struct WeightedRoundRobin: SchedulingAlgorithm {
    /// Index of the last server picked (-1 before the first pick).
    @usableFromInline var position = -1
    /// Current weight.
    @usableFromInline var currentWeight: Int64 = 0

    @usableFromInline init() {}

    @inlinable
    mutating func pick(_ servers: borrowing SchedulerServers, flow: SchedulingFlow) -> Int? {
        let n = servers.count
        let maxWeight = Int64(servers.maxWeight)
        let gcdWeight = Int64(servers.gcdWeight)
        guard gcdWeight > 0 else { return nil }
        var i = position
        var cw = currentWeight
        // cw takes at most max/gcd values before it reaches gcd, where every server with weight > 0
        // qualifies; bound the scan accordingly so a bad state cannot loop forever.
        let limit = n * (Int(maxWeight / gcdWeight) + 1)
        for _ in 0...limit {
            i += 1
            if i >= n { i = 0 }
            if i == 0 {
                cw -= gcdWeight
                if cw <= 0 { cw = maxWeight }
            }
            if Int64(servers.weights[i]) >= cw && !servers.overloaded[i] {
                position = i
                currentWeight = cw
                return i
            }
        }
        return nil
    }

    /// The cycle restarts.
    @usableFromInline
    mutating func serversChanged(_ servers: inout SchedulerServers) {
        position = -1
        currentWeight = 0
    }
}
