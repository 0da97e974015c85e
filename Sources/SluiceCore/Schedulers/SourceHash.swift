// sh (net/netfilter/ipvs/ip_vs_sh.c): a table of buckets filled by walking the servers in order,
// each taking as many consecutive buckets as its weight, round and round until the table is full; a
// new connection goes to the bucket its client address hashes to. Every connection from one client
// address reaches the same server as long as the weights stay the same.
//
// Where Sluice differs, and why:
// - The hash is SipHash-2-4 keyed by the deployment's `scheduler_seed` (IPVS multiplies by a fixed
//   constant), so every gateway with the same seed sends a client to the same server and outsiders
//   cannot aim at a server by choosing addresses.
// - 4096 buckets instead of IPVS's default 256 (CONFIG_IP_VS_SH_TAB_BITS), and turns of weight/gcd,
//   shifted right while a full cycle would take more than a quarter of the table: weights such as
//   100,50 then split the buckets 2:1 instead of running out of buckets on the first server.
// - Only servers with weight > 0 get buckets, and the table is rebuilt at every weight change: a
//   quiescent or down server's clients move to the others (IPVS leaves its buckets in place and
//   refuses those clients unless the sh-fallback flag is set).

/// IPVS source hashing.
@usableFromInline
struct SourceHash: SchedulingAlgorithm {
    @usableFromInline init() {}

    @inlinable
    mutating func pick(_ servers: borrowing SchedulerServers, flow: SchedulingFlow) -> Int? {
        servers.bucket(servers.hash(flow.client, port: 0, salt: SchedulerServers.Salt.sourceHash))
    }

    @usableFromInline
    mutating func serversChanged(_ servers: inout SchedulerServers) {
        servers.fillHashBuckets()
    }
}

extension SchedulerServers {
    /// Buckets of the sh and dh tables (a power of two).
    public static let hashBucketCount = 4096

    /// The server of the bucket `hash` selects, nil when it has none or it is quiescent or overloaded.
    @inlinable
    func bucket(_ hash: UInt64) -> Int? {
        guard !table.isEmpty else { return nil }
        let slot = table[Int(truncatingIfNeeded: hash & UInt64(table.count &- 1))]
        guard slot != Self.emptySlot, isAvailable(Int(slot)) else { return nil }
        return Int(slot)
    }

    /// Fills the sh/dh table from the current weights (ip_vs_sh_reassign's walk). Off the hot path.
    mutating func fillHashBuckets() {
        let size = Self.hashBucketCount
        guard gcdWeight > 0 else {
            table = []
            return
        }
        let base = weights.enumerated().map { i, w in i < Int(Self.emptySlot) && w > 0 ? w / gcdWeight : 0 }
        var shift: UInt32 = 0
        func turns(_ t: UInt32) -> Int { t == 0 ? 0 : max(1, Int(t >> shift)) }
        while shift < 31 && base.reduce(0, { $0 + turns($1) }) > size / 4 { shift += 1 }
        let perServer = base.map(turns)
        var filled = Array(repeating: Self.emptySlot, count: size)
        var server = 0
        var taken = 0
        for slot in 0..<size {
            while perServer[server] == 0 { server = (server + 1) % perServer.count }
            filled[slot] = UInt16(server)
            taken += 1
            if taken >= perServer[server] {
                taken = 0
                server = (server + 1) % perServer.count
            }
        }
        table = filled
    }
}
