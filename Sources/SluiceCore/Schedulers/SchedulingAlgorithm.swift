// What every scheduling algorithm shares: the per-server state it reads (`SchedulerServers`), the
// protocol each algorithm implements, and the keyed hash of the hashing schedulers.
//
// Layout rule (hot path, docs/design.md): every algorithm is a small value holding scalars only
// (positions, flags); the arrays (weights, counters, the sh/dh/mh lookup table) live once in
// `SchedulerServers`, which the algorithm borrows. `Scheduler` switches over an enum of the concrete
// algorithms, so a pick is a direct, inlinable call: no existential, no allocation, no reference
// counting from copying an array out of an enum payload.

import SluicePacket

/// The servers a scheduler chooses among, as the algorithms read them.
public struct SchedulerServers: Sendable {
    /// Weight used for new connections, per server (0 = quiescent or down).
    @usableFromInline var weights: [UInt32]
    /// Connections counted active (ESTABLISHED) / inactive, per server.
    @usableFromInline var active: [UInt32]
    @usableFromInline var inactive: [UInt32]
    /// Address and port per server (the Maglev permutation hashes them). Off the hot path.
    @usableFromInline var endpoints: [SchedulerEndpoint]
    /// Weight the mh table is built with, per server: IPVS's `last_weight`, the last weight > 0 a
    /// server had, so that quiescing a server keeps its slots (and `mh_fallback` decides what its
    /// clients get). 0 for a server added at weight 0 or down (taken out, as keepalived removes it).
    @usableFromInline var tableWeights: [UInt32]
    /// Lookup table of sh, dh and mh: the server of each slot, `emptySlot` when none; empty otherwise.
    @usableFromInline var table: [UInt16]
    @usableFromInline var maxWeight: UInt32
    @usableFromInline var gcdWeight: UInt32
    /// `uthreshold`/`lthreshold` per server as this worker applies them (0: none), and whether the
    /// server is overloaded now: it reached its upper threshold and has not yet fallen below the lower
    /// one (IPVS's IP_VS_DEST_F_OVERLOAD). Every algorithm skips an overloaded server.
    @usableFromInline var upperThresholds: [UInt32]
    @usableFromInline var lowerThresholds: [UInt32]
    @usableFromInline var overloaded: [Bool]
    /// SipHash-2-4 key of the hashing schedulers, from the deployment's `scheduler_seed`.
    @usableFromInline var k0: UInt64
    @usableFromInline var k1: UInt64

    /// A table slot that holds no server.
    @usableFromInline static let emptySlot = UInt16.max

    init(endpoints: [SchedulerEndpoint], weights: [UInt32], seed: UInt64) {
        self.weights = weights
        self.active = Array(repeating: 0, count: weights.count)
        self.inactive = Array(repeating: 0, count: weights.count)
        self.endpoints = endpoints
        self.tableWeights = weights
        self.table = []
        self.maxWeight = 0
        self.gcdWeight = 0
        self.upperThresholds = Array(repeating: 0, count: weights.count)
        self.lowerThresholds = Array(repeating: 0, count: weights.count)
        self.overloaded = Array(repeating: false, count: weights.count)
        // Two key words from one 64-bit seed; the constant only separates them ("Schedule").
        self.k0 = seed
        self.k1 = seed ^ 0x5363_6865_6475_6C65
        summarise()
    }

    /// Recomputes the maximum and the gcd of the weights > 0.
    mutating func summarise() {
        var g: UInt32 = 0
        var m: UInt32 = 0
        for w in weights where w > 0 {
            m = max(m, w)
            g = Self.gcd(g, w)
        }
        maxWeight = m
        gcdWeight = g
    }

    static func gcd(_ a: UInt32, _ b: UInt32) -> UInt32 {
        var (a, b) = (a, b)
        while b != 0 { (a, b) = (b, a % b) }
        return a
    }

    /// Number of servers.
    @inlinable
    var count: Int { weights.count }

    /// True when `server` may take a new connection: weight above 0 and not overloaded.
    @inlinable
    func isAvailable(_ server: Int) -> Bool { weights[server] > 0 && !overloaded[server] }

    /// Sets or clears `server`'s overload from its connection count, as IPVS does when a connection
    /// is bound (set at the upper threshold) or unbound (cleared below the lower threshold, or below
    /// three quarters of the upper one when no lower threshold is set).
    @inlinable
    mutating func checkOverload(_ server: Int) {
        let upper = upperThresholds[server]
        guard upper > 0 else {
            overloaded[server] = false
            return
        }
        let total = UInt64(active[server]) + UInt64(inactive[server])
        if total >= UInt64(upper) {
            overloaded[server] = true
        } else if overloaded[server] {
            let lower = lowerThresholds[server]
            let clear = lower > 0 ? total < UInt64(lower) : total * 4 < UInt64(upper) * 3
            if clear { overloaded[server] = false }
        }
    }

    /// Keyed hash of an address and port for purpose `salt` (one of the `Salt` values, plus an
    /// attempt number in bits 8-31 for mh's fallback walk). IPv4 and IPv6 never collide by
    /// construction: the family is part of the message.
    @inlinable
    func hash(_ address: IPAddress, port: UInt16, salt: UInt64) -> UInt64 {
        let meta = (address.isV6 ? UInt64(1) << 63 : 0) | UInt64(port) << 32 | salt
        return SipHash24.hash(k0: k0, k1: k1, address.high, address.low, meta)
    }

    /// Purposes of `hash`, so that one key serves every scheduler without correlated outputs.
    @usableFromInline enum Salt {
        @usableFromInline static let sourceHash: UInt64 = 1
        @usableFromInline static let destinationHash: UInt64 = 2
        @usableFromInline static let maglevClient: UInt64 = 3
        @usableFromInline static let maglevOffset: UInt64 = 4
        @usableFromInline static let maglevSkip: UInt64 = 5
    }

    /// a/aw > b/bw for loads a, b over weights aw, bw > 0, by cross-multiplication in 128 bits.
    @inlinable
    static func heavier(_ a: UInt64, weight aw: UInt32, than b: UInt64, weight bw: UInt32) -> Bool {
        let lhs = a.multipliedFullWidth(by: UInt64(bw))
        let rhs = b.multipliedFullWidth(by: UInt64(aw))
        return lhs.high > rhs.high || (lhs.high == rhs.high && lhs.low > rhs.low)
    }
}

/// A real server's address and port as the hashing schedulers see it.
public struct SchedulerEndpoint: Sendable, Hashable {
    public var address: IPAddress
    public var port: UInt16

    public init(address: IPAddress, port: UInt16) {
        self.address = address
        self.port = port
    }
}

/// The flow a new connection is for: what the hashing schedulers hash.
public struct SchedulingFlow: Sendable {
    public var client: IPAddress
    public var clientPort: UInt16
    /// The destination the client addressed: for FULLNAT always the service's VIP.
    public var vip: IPAddress

    @inlinable
    public init(client: IPAddress, clientPort: UInt16, vip: IPAddress) {
        self.client = client
        self.clientPort = clientPort
        self.vip = vip
    }
}

/// One IPVS scheduling algorithm. Implementations hold scalars only and read the servers through
/// the borrowed `SchedulerServers`.
@usableFromInline
protocol SchedulingAlgorithm: Sendable {
    /// The server for a new connection of `flow`, or nil. Hot path: no allocation, no String, no lock.
    /// Called only when some weight is > 0.
    mutating func pick(_ servers: borrowing SchedulerServers, flow: SchedulingFlow) -> Int?

    /// The weights or the server list changed (`servers` already updated): restart a cycle, rebuild
    /// a table. Off the hot path; may allocate.
    mutating func serversChanged(_ servers: inout SchedulerServers)
}

extension SchedulingAlgorithm {
    @usableFromInline
    mutating func serversChanged(_ servers: inout SchedulerServers) {}
}
