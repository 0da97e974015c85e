// Real-server choice for a new connection, with the IPVS algorithms and their semantics
// (net/netfilter/ipvs/ip_vs_{rr,wrr,lc,wlc,sed,nq,sh,dh,mh}.c), because operators compare the
// resulting distribution with what LVS would do. One file per algorithm in Schedulers/, each a
// small value behind `SchedulingAlgorithm`; this struct owns the shared per-server state and
// dispatches with a switch over the concrete algorithms (no existential, no allocation, no reference
// counting on the pick path).
//
// Weight 0 means quiescent: never picked, existing connections untouched. All weights 0 → nil,
// which the data plane counts as `noRealServer`. A down server arrives here with weight 0
// (`RealServerConfiguration.schedulingWeight`).
//
// Active/inactive counters live here rather than in shared per-server objects: each worker owns
// its scheduler, so lc/wlc/sed/nq balance the connections this worker created (IPVS's counters are
// global; per-worker counting is the price of sharing nothing and evens out over workers).
// A connection is "active" while ESTABLISHED (IPVS `IP_VS_CONN_F_INACTIVE`); the data plane reports
// the transitions. Counters saturate at 0, so a stray report cannot wrap them.
//
// The hashing schedulers (sh, dh, mh) build their tables here, in `init` and the `update` methods,
// which run when a configuration is applied, never per packet.

import SluicePacket

/// Settings of a scheduler beyond its algorithm.
public struct SchedulerOptions: Sendable, Hashable {
    /// The `scheduler_seed` used when the configuration names none: fixed, so that restarts and
    /// every gateway of a deployment hash alike.
    public static let defaultSeed: UInt64 = 0
    /// Default Maglev table size M (a prime; the Maglev paper's 65537).
    public static let defaultMaglevTableSize = 65537

    /// Key of the sh, dh and mh hashes.
    public var seed: UInt64
    /// Slots of the mh table; must be prime.
    public var maglevTableSize: Int
    /// mh: rehash past quiescent servers instead of refusing (IPVS mh-fallback).
    public var mhFallback: Bool
    /// mh: hash the client port too (IPVS mh-port).
    public var mhPort: Bool

    public init(
        seed: UInt64 = SchedulerOptions.defaultSeed, maglevTableSize: Int = SchedulerOptions.defaultMaglevTableSize,
        mhFallback: Bool = false, mhPort: Bool = false
    ) {
        self.seed = seed
        self.maglevTableSize = maglevTableSize
        self.mhFallback = mhFallback
        self.mhPort = mhPort
    }
}

/// Picks real servers for one virtual service.
public struct Scheduler: Sendable {
    /// The algorithm.
    public let kind: SchedulerKind
    public let options: SchedulerOptions
    @usableFromInline var servers: SchedulerServers
    @usableFromInline var algorithm: Algorithm

    /// The concrete algorithms, by value.
    @usableFromInline
    enum Algorithm: Sendable {
        case rr(RoundRobin)
        case wrr(WeightedRoundRobin)
        case lc(LeastConnections)
        case wlc(WeightedLeastConnections)
        case sed(ShortestExpectedDelay)
        case nq(NeverQueue)
        case sh(SourceHash)
        case dh(DestinationHash)
        case mh(MaglevHash)
    }

    /// Creates a scheduler over `servers` with zeroed counters.
    public init(kind: SchedulerKind, servers: [RealServerConfiguration], options: SchedulerOptions = SchedulerOptions())
    {
        self.init(
            kind: kind, endpoints: servers.map { SchedulerEndpoint(address: $0.address, port: $0.port) },
            weights: servers.map(\.schedulingWeight), tableWeights: servers.map { $0.isUp ? $0.weight : 0 },
            options: options)
    }

    /// Creates a scheduler over servers 0..<weights.count with zeroed counters. The servers' addresses
    /// (which only the Maglev permutation reads) are 10.0.0.0 + index, port 0.
    public init(kind: SchedulerKind, weights: [UInt32], options: SchedulerOptions = SchedulerOptions()) {
        self.init(
            kind: kind, endpoints: weights.indices.map(Self.placeholderEndpoint), weights: weights,
            tableWeights: weights, options: options)
    }

    init(
        kind: SchedulerKind, endpoints: [SchedulerEndpoint], weights: [UInt32], tableWeights: [UInt32],
        options: SchedulerOptions
    ) {
        self.kind = kind
        self.options = options
        var servers = SchedulerServers(endpoints: endpoints, weights: weights, seed: options.seed)
        servers.tableWeights = tableWeights
        self.servers = servers
        switch kind {
        case .rr: algorithm = .rr(RoundRobin())
        case .wrr: algorithm = .wrr(WeightedRoundRobin())
        case .lc: algorithm = .lc(LeastConnections())
        case .wlc: algorithm = .wlc(WeightedLeastConnections())
        case .sed: algorithm = .sed(ShortestExpectedDelay())
        case .nq: algorithm = .nq(NeverQueue())
        case .sh: algorithm = .sh(SourceHash())
        case .dh: algorithm = .dh(DestinationHash())
        case .mh:
            algorithm = .mh(
                MaglevHash(
                    fallback: options.mhFallback, usesPort: options.mhPort, tableSize: options.maglevTableSize))
        }
        serversChanged()
    }

    static func placeholderEndpoint(_ index: Int) -> SchedulerEndpoint {
        SchedulerEndpoint(address: IPAddress(v4: 0x0A00_0000 &+ UInt32(truncatingIfNeeded: index)), port: 0)
    }

    /// Number of servers.
    public var serverCount: Int { servers.count }

    /// Weight of `server`.
    public func weight(_ server: Int) -> UInt32 { servers.weights[server] }

    /// The largest weight (0 when no server may take a new connection).
    @inlinable
    public var maxWeight: UInt32 { servers.maxWeight }

    /// Connections of `server` counted active (ESTABLISHED).
    public func activeConnections(_ server: Int) -> UInt32 { servers.active[server] }

    /// Connections of `server` counted inactive (any other state).
    public func inactiveConnections(_ server: Int) -> UInt32 { servers.inactive[server] }

    /// Slots of the sh/dh/mh lookup table per server (all 0 for the other algorithms).
    public var tableSlots: [Int] {
        var slots = Array(repeating: 0, count: servers.count)
        for s in servers.table where s != SchedulerServers.emptySlot { slots[Int(s)] += 1 }
        return slots
    }

    /// Size of the sh/dh/mh lookup table (0 for the other algorithms).
    public var tableSize: Int { servers.table.count }

    // MARK: Picking

    /// The server for a new connection from `client`:`clientPort` to `vip`, or nil when every weight
    /// is 0 (or, for sh/dh/mh, when the client's slot has no server that may take it).
    @inlinable
    public mutating func pick(client: IPAddress, clientPort: UInt16, vip: IPAddress) -> Int? {
        guard servers.maxWeight > 0 else { return nil }
        let flow = SchedulingFlow(client: client, clientPort: clientPort, vip: vip)
        switch algorithm {
        case .rr(var a):
            let picked = a.pick(servers, flow: flow)
            algorithm = .rr(a)
            return picked
        case .wrr(var a):
            let picked = a.pick(servers, flow: flow)
            algorithm = .wrr(a)
            return picked
        case .lc(var a): return a.pick(servers, flow: flow)
        case .wlc(var a): return a.pick(servers, flow: flow)
        case .sed(var a): return a.pick(servers, flow: flow)
        case .nq(var a): return a.pick(servers, flow: flow)
        case .sh(var a): return a.pick(servers, flow: flow)
        case .dh(var a): return a.pick(servers, flow: flow)
        case .mh(var a): return a.pick(servers, flow: flow)
        }
    }

    /// `pick` for a flow that does not matter: for the algorithms that do not hash (rr, wrr, lc, wlc,
    /// sed, nq); sh, dh and mh see the same (unspecified) client every time.
    @inlinable
    public mutating func pick() -> Int? {
        let none = IPAddress.zero(v6: false)
        return pick(client: none, clientPort: 0, vip: none)
    }

    /// Lets the algorithm react to new weights or servers (off the hot path).
    mutating func serversChanged() {
        switch algorithm {
        case .rr(var a):
            a.serversChanged(&servers)
            algorithm = .rr(a)
        case .wrr(var a):
            a.serversChanged(&servers)
            algorithm = .wrr(a)
        case .lc(var a): a.serversChanged(&servers)
        case .wlc(var a): a.serversChanged(&servers)
        case .sed(var a): a.serversChanged(&servers)
        case .nq(var a): a.serversChanged(&servers)
        case .sh(var a): a.serversChanged(&servers)
        case .dh(var a): a.serversChanged(&servers)
        case .mh(var a): a.serversChanged(&servers)
        }
    }

    // MARK: Connection counters (used by lc, wlc, sed, nq; kept for every kind so listings show them)

    /// A connection to `server` was created, counted active (IPVS counts a new connection active
    /// and moves it to inactive on its first non-ESTABLISHED state) or inactive as `active` says.
    /// Pass `TCPStateMachine.isActive(state)` of the new entry to count it where it belongs.
    @inlinable
    public mutating func connectionOpened(_ server: Int, active isActive: Bool = true) {
        guard server >= 0 && server < servers.active.count else { return }
        if isActive {
            servers.active[server] &+= 1
        } else {
            servers.inactive[server] &+= 1
        }
        servers.checkOverload(server)
    }

    /// A connection to `server` left ESTABLISHED.
    @inlinable
    public mutating func connectionBecameInactive(_ server: Int) {
        guard server >= 0 && server < servers.active.count else { return }
        if servers.active[server] > 0 { servers.active[server] -= 1 }
        servers.inactive[server] &+= 1
    }

    /// A connection to `server` (re-)entered ESTABLISHED.
    @inlinable
    public mutating func connectionBecameActive(_ server: Int) {
        guard server >= 0 && server < servers.active.count else { return }
        if servers.inactive[server] > 0 { servers.inactive[server] -= 1 }
        servers.active[server] &+= 1
    }

    /// A connection to `server` was removed.
    @inlinable
    public mutating func connectionClosed(_ server: Int, wasActive: Bool) {
        guard server >= 0 && server < servers.active.count else { return }
        if wasActive {
            if servers.active[server] > 0 { servers.active[server] -= 1 }
        } else {
            if servers.inactive[server] > 0 { servers.inactive[server] -= 1 }
        }
        servers.checkOverload(server)
    }

    /// True while `server` is overloaded (at its upper threshold, not yet below the lower one).
    public func isOverloaded(_ server: Int) -> Bool { servers.overloaded[server] }

    /// Sets each server's connection thresholds (`uthreshold`/`lthreshold` as this worker applies
    /// them; 0: none) and re-evaluates its overload. Off the hot path.
    public mutating func setThresholds(upper: [UInt32], lower: [UInt32]) {
        precondition(upper.count == servers.count && lower.count == servers.count, "one threshold per server")
        servers.upperThresholds = upper
        servers.lowerThresholds = lower
        for i in 0..<servers.count {
            servers.overloaded[i] = false
            servers.checkOverload(i)
        }
    }

    // MARK: Reload

    /// Replaces the weights (same servers, same order; new servers appended get zeroed counters,
    /// servers cut off the end lose theirs). The wrr cycle restarts; hash tables are rebuilt.
    public mutating func updateWeights(_ weights: [UInt32]) {
        updateWeights(weights, previousIndex: weights.indices.map { $0 < servers.count ? $0 : nil })
    }

    /// Replaces the server list: new server `i` keeps the counters of old server `previousIndex[i]`
    /// (nil for a new server). The wrr cycle restarts; rr continues after the same index.
    public mutating func updateWeights(_ weights: [UInt32], previousIndex: [Int?]) {
        precondition(previousIndex.count == weights.count, "one previous index per server")
        let endpoints = previousIndex.enumerated().map { i, old in
            old.flatMap { $0 >= 0 && $0 < servers.count ? servers.endpoints[$0] : nil }
                ?? Self.placeholderEndpoint(i)
        }
        update(endpoints: endpoints, weights: weights, up: weights.map { _ in true }, previousIndex: previousIndex)
    }

    /// Replaces the servers (new server `i` keeps the counters of old server `previousIndex[i]`, nil
    /// for a new one) and rebuilds what the algorithm derives from them. A server that went to weight
    /// 0 while up keeps its last weight for the mh table (IPVS `last_weight`); a down one leaves it.
    public mutating func update(servers list: [RealServerConfiguration], previousIndex: [Int?]) {
        precondition(previousIndex.count == list.count, "one previous index per server")
        update(
            endpoints: list.map { SchedulerEndpoint(address: $0.address, port: $0.port) },
            weights: list.map(\.schedulingWeight), up: list.map(\.isUp), previousIndex: previousIndex)
    }

    mutating func update(endpoints: [SchedulerEndpoint], weights: [UInt32], up: [Bool], previousIndex: [Int?]) {
        var newActive = Array(repeating: UInt32(0), count: weights.count)
        var newInactive = Array(repeating: UInt32(0), count: weights.count)
        var tableWeights = Array(repeating: UInt32(0), count: weights.count)
        for i in weights.indices {
            let old = previousIndex[i].flatMap { $0 >= 0 && $0 < servers.count ? $0 : nil }
            if let old {
                newActive[i] = servers.active[old]
                newInactive[i] = servers.inactive[old]
            }
            if !up[i] {
                tableWeights[i] = 0
            } else if weights[i] > 0 {
                tableWeights[i] = weights[i]
            } else if let old {
                tableWeights[i] = servers.tableWeights[old]
            }
        }
        servers.weights = weights
        servers.active = newActive
        servers.inactive = newInactive
        servers.endpoints = endpoints
        servers.tableWeights = tableWeights
        servers.upperThresholds = Array(repeating: 0, count: weights.count)
        servers.lowerThresholds = Array(repeating: 0, count: weights.count)
        servers.overloaded = Array(repeating: false, count: weights.count)
        servers.summarise()
        serversChanged()
    }
}
