// mh (net/netfilter/ipvs/ip_vs_mh.c; Eisenbud et al., "Maglev", NSDI 2016, §3.4): a lookup table of
// prime size M. Each server has a permutation of the slots, from two hashes of its address:port:
// offset = h1 mod M, skip = h2 mod (M − 1) + 1 (M prime, so any skip visits every slot). The table is
// filled in rounds: each server in turn claims its next still-free preferred slots, as many per round
// as its turns (weight/gcd, shifted right so the largest fits in half the bits of M, as ip_vs_mh's
// rshift does), until all M slots are taken. A new connection goes to the slot its client address
// (and port, with `mh_port`) hashes to. Removing one of N servers moves about 1/N of the clients.
//
// IPVS semantics kept:
// - The table is built from each server's last weight > 0 (IPVS `last_weight`), not its current
//   weight: quiescing a server (weight 0) keeps its slots and so moves nobody else. A client whose
//   slot holds a quiescent server gets no server (the connection is refused) unless `mh_fallback`
//   is set; then, as ip_vs_mh_get_fallback, the client is rehashed with offsets 1, 2, … until a
//   slot holds a server with weight > 0 (at most M tries).
// - A server added at weight 0 takes no slot. Sluice treats a down server (`isUp` false, no
//   `inhibit_on_failure`) as keepalived does with IPVS: it is taken out, so the table is rebuilt
//   without it and its clients spread over the others.
// - `mh_port` adds the client port to the hash (IPVS's mh-port flag); without it the port is 0.
// Hashes are SipHash-2-4 keyed by `scheduler_seed` (IPVS uses hsiphash with fixed keys), so gateways
// with the same seed, servers and M build identical tables.

/// IPVS Maglev hashing.
@usableFromInline
struct MaglevHash: SchedulingAlgorithm {
    /// IPVS mh-fallback: rehash past quiescent servers instead of refusing the client.
    @usableFromInline let fallback: Bool
    /// IPVS mh-port: hash the client port too.
    @usableFromInline let usesPort: Bool
    /// M, a prime.
    @usableFromInline let tableSize: Int

    @usableFromInline init(fallback: Bool, usesPort: Bool, tableSize: Int) {
        self.fallback = fallback
        self.usesPort = usesPort
        self.tableSize = tableSize
    }

    @inlinable
    mutating func pick(_ servers: borrowing SchedulerServers, flow: SchedulingFlow) -> Int? {
        let m = UInt64(truncatingIfNeeded: servers.table.count)
        guard m > 1 else { return nil }
        let port = usesPort ? flow.clientPort : 0
        let salt = SchedulerServers.Salt.maglevClient
        // hash·M / 2^64: a uniform slot without a division.
        let slot = servers.hash(flow.client, port: port, salt: salt).multipliedFullWidth(by: m).high
        let first = servers.table[Int(truncatingIfNeeded: slot)]
        guard first != SchedulerServers.emptySlot else { return nil }
        if servers.isAvailable(Int(first)) { return Int(first) }
        guard fallback else { return nil }
        var attempt: UInt64 = 1
        while attempt < m {
            let h = servers.hash(flow.client, port: port, salt: salt | attempt << 8)
            let server = servers.table[Int(truncatingIfNeeded: h.multipliedFullWidth(by: m).high)]
            if server == SchedulerServers.emptySlot { return nil }
            if servers.isAvailable(Int(server)) { return Int(server) }
            attempt &+= 1
        }
        return nil
    }

    @usableFromInline
    mutating func serversChanged(_ servers: inout SchedulerServers) {
        servers.fillMaglevTable(size: tableSize)
    }
}

extension SchedulerServers {
    /// Whether `n` is prime (trial division; for configuration checks and table sizes).
    public static func isPrime(_ n: Int) -> Bool {
        guard n >= 2 else { return false }
        if n < 4 { return true }
        if n % 2 == 0 { return false }
        var d = 3
        while d * d <= n {
            if n % d == 0 { return false }
            d += 2
        }
        return true
    }

    /// Builds the Maglev table of `m` slots from `tableWeights` (ip_vs_mh_permutate and
    /// ip_vs_mh_populate). Off the hot path: allocates the table and the per-server setup.
    mutating func fillMaglevTable(size m: Int) {
        let servers = min(tableWeights.count, Int(Self.emptySlot))
        var g: UInt32 = 0
        var maxTableWeight: UInt32 = 0
        for i in 0..<servers where tableWeights[i] > 0 {
            g = Self.gcd(g, tableWeights[i])
            maxTableWeight = max(maxTableWeight, tableWeights[i])
        }
        guard g > 0, m > 1 else {
            table = []
            return
        }
        // ip_vs_mh_shift_weight: keep weight/gcd within half the bits of M (IPVS: 6 bits for M = 4093).
        let turnBits = max(1, (Int.bitWidth - m.leadingZeroBitCount) / 2)
        let maxTurnsBits = UInt32.bitWidth - (maxTableWeight / g).leadingZeroBitCount
        let shift = max(0, maxTurnsBits - turnBits)
        var turns: [Int] = []
        var next: [Int] = []
        var skip: [Int] = []
        var candidates: [Int] = []
        for i in 0..<servers {
            let w = tableWeights[i]
            turns.append(w == 0 ? 0 : max(1, Int((w / g) >> shift)))
            let e = endpoints[i]
            next.append(Int(hash(e.address, port: e.port, salt: Salt.maglevOffset) % UInt64(m)))
            skip.append(Int(hash(e.address, port: e.port, salt: Salt.maglevSkip) % UInt64(m - 1)) + 1)
            if w > 0 { candidates.append(i) }
        }
        var filled = Array(repeating: Self.emptySlot, count: m)
        var n = 0
        fill: while true {
            for i in candidates {
                for _ in 0..<turns[i] {
                    var c = next[i]
                    while filled[c] != Self.emptySlot {
                        c += skip[i]
                        if c >= m { c -= m }
                    }
                    filled[c] = UInt16(i)
                    next[i] = c
                    n += 1
                    if n == m { break fill }
                }
            }
        }
        table = filled
    }
}
