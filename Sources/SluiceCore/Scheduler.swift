// Real-server choice for a new connection, with the IPVS algorithms and their exact semantics
// (net/netfilter/ipvs/ip_vs_rr.c, ip_vs_wrr.c, ip_vs_wlc.c), because operators compare the
// resulting distribution with what LVS would do:
// - rr: the next server after the last one picked whose weight is > 0.
// - wrr: interleaved weighted round robin. A current weight `cw` steps down from the maximum
//   weight by the gcd of the weights each time the scan wraps; a server is picked when its weight
//   is ≥ cw. Over one cycle of Σw/gcd picks each server gets exactly w/gcd picks, spread out
//   (weights 5,3,2 give A A A B A B C A B C), not in bursts.
// - wlc: the minimum of (active·256 + inactive) / weight, compared by cross-multiplication in
//   128 bits; ties go to the earlier server, as in IPVS.
// Weight 0 means quiescent: never picked, existing connections untouched. All weights 0 → nil,
// which the data plane counts as `noRealServer`.
//
// Active/inactive counters live here rather than in shared per-server objects: each worker owns
// its scheduler, so wlc balances the connections this worker created (IPVS's counters are global;
// per-worker counting is the price of sharing nothing and evens out over workers).
// A connection is "active" while ESTABLISHED (IPVS `IP_VS_CONN_F_INACTIVE`); the data plane reports
// the transitions. Counters saturate at 0, so a stray report cannot wrap them.

/// Picks real servers for one virtual service.
public struct Scheduler: Sendable {
    /// The algorithm.
    public let kind: SchedulerKind
    @usableFromInline var weights: [UInt32]
    @usableFromInline var active: [UInt32]
    @usableFromInline var inactive: [UInt32]
    /// Index of the last server picked by rr/wrr (-1 before the first pick).
    @usableFromInline var position: Int
    /// wrr current weight.
    @usableFromInline var currentWeight: Int64
    @usableFromInline var maxWeight: Int64
    @usableFromInline var gcdWeight: Int64

    /// Creates a scheduler over servers 0..<weights.count with zeroed counters.
    public init(kind: SchedulerKind, weights: [UInt32]) {
        self.kind = kind
        self.weights = weights
        self.active = Array(repeating: 0, count: weights.count)
        self.inactive = Array(repeating: 0, count: weights.count)
        self.position = -1
        self.currentWeight = 0
        self.maxWeight = 0
        self.gcdWeight = 0
        recomputeWeightSummary()
    }

    mutating func recomputeWeightSummary() {
        var g: UInt32 = 0
        var m: UInt32 = 0
        for w in weights where w > 0 {
            m = max(m, w)
            var a = g
            var b = w
            while b != 0 { (a, b) = (b, a % b) }
            g = a
        }
        maxWeight = Int64(m)
        gcdWeight = Int64(g)
    }

    /// Number of servers.
    public var serverCount: Int { weights.count }

    /// Weight of `server`.
    public func weight(_ server: Int) -> UInt32 { weights[server] }

    /// Connections of `server` counted active (ESTABLISHED).
    public func activeConnections(_ server: Int) -> UInt32 { active[server] }

    /// Connections of `server` counted inactive (any other state).
    public func inactiveConnections(_ server: Int) -> UInt32 { inactive[server] }

    /// The server for a new connection, or nil when every weight is 0.
    @inlinable
    public mutating func pick() -> Int? {
        guard maxWeight > 0 else { return nil }
        switch kind {
        case .rr: return pickRoundRobin()
        case .wrr: return pickWeightedRoundRobin()
        case .wlc: return pickWeightedLeastConnections()
        }
    }

    @inlinable
    mutating func pickRoundRobin() -> Int? {
        let n = weights.count
        var i = position
        for _ in 0..<n {
            i += 1
            if i >= n { i = 0 }
            if weights[i] > 0 {
                position = i
                return i
            }
        }
        return nil
    }

    @inlinable
    mutating func pickWeightedRoundRobin() -> Int? {
        let n = weights.count
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
            if Int64(weights[i]) >= cw {
                position = i
                currentWeight = cw
                return i
            }
        }
        return nil
    }

    @inlinable
    mutating func pickWeightedLeastConnections() -> Int? {
        var best = -1
        var bestOverhead: UInt64 = 0
        for i in weights.indices where weights[i] > 0 {
            let overhead = UInt64(active[i]) &* 256 &+ UInt64(inactive[i])
            if best < 0 {
                best = i
                bestOverhead = overhead
                continue
            }
            // overhead(best)/w(best) > overhead(i)/w(i)  ⇔  overhead(best)·w(i) > overhead(i)·w(best)
            let lhs = bestOverhead.multipliedFullWidth(by: UInt64(weights[i]))
            let rhs = overhead.multipliedFullWidth(by: UInt64(weights[best]))
            if lhs.high > rhs.high || (lhs.high == rhs.high && lhs.low > rhs.low) {
                best = i
                bestOverhead = overhead
            }
        }
        return best < 0 ? nil : best
    }

    // MARK: Connection counters (used by wlc; kept for every kind so listings can show them)

    /// A connection to `server` was created, counted active (IPVS counts a new connection active
    /// and moves it to inactive on its first non-ESTABLISHED state) or inactive as `active` says.
    /// Pass `TCPStateMachine.isActive(state)` of the new entry to count it where it belongs.
    @inlinable
    public mutating func connectionOpened(_ server: Int, active isActive: Bool = true) {
        guard server >= 0 && server < active.count else { return }
        if isActive {
            active[server] &+= 1
        } else {
            inactive[server] &+= 1
        }
    }

    /// A connection to `server` left ESTABLISHED.
    @inlinable
    public mutating func connectionBecameInactive(_ server: Int) {
        guard server >= 0 && server < active.count else { return }
        if active[server] > 0 { active[server] -= 1 }
        inactive[server] &+= 1
    }

    /// A connection to `server` (re-)entered ESTABLISHED.
    @inlinable
    public mutating func connectionBecameActive(_ server: Int) {
        guard server >= 0 && server < active.count else { return }
        if inactive[server] > 0 { inactive[server] -= 1 }
        active[server] &+= 1
    }

    /// A connection to `server` was removed.
    @inlinable
    public mutating func connectionClosed(_ server: Int, wasActive: Bool) {
        guard server >= 0 && server < active.count else { return }
        if wasActive {
            if active[server] > 0 { active[server] -= 1 }
        } else {
            if inactive[server] > 0 { inactive[server] -= 1 }
        }
    }

    // MARK: Reload

    /// Replaces the weights (same servers, same order; new servers appended get zeroed counters,
    /// servers cut off the end lose theirs). The wrr cycle restarts.
    public mutating func updateWeights(_ weights: [UInt32]) {
        updateWeights(weights, previousIndex: weights.indices.map { $0 < self.weights.count ? $0 : nil })
    }

    /// Replaces the server list: new server `i` keeps the counters of old server `previousIndex[i]`
    /// (nil for a new server). The wrr cycle restarts; rr continues after the same index.
    public mutating func updateWeights(_ weights: [UInt32], previousIndex: [Int?]) {
        precondition(previousIndex.count == weights.count, "one previous index per server")
        var newActive = Array(repeating: UInt32(0), count: weights.count)
        var newInactive = Array(repeating: UInt32(0), count: weights.count)
        for (i, old) in previousIndex.enumerated() {
            guard let old, old >= 0, old < active.count else { continue }
            newActive[i] = active[old]
            newInactive[i] = inactive[old]
        }
        self.weights = weights
        self.active = newActive
        self.inactive = newInactive
        if kind == .wrr || position >= weights.count { position = -1 }
        currentWeight = 0
        recomputeWeightSummary()
    }
}
