// Connection-table lookups at a given fill, hits and misses, on `ConnectionTable` directly (the
// structure `Dataplane.process` looks every TCP/UDP packet up in; the data plane keeps it internal,
// so the benchmark builds its own with the production shape).
//
// - Capacity 2^20, the default `connection_capacity` per worker, so the table has its production
//   size: 128 MiB of entries and 2^22 index slots (32 MiB). A small table would sit in cache and
//   hide what matters at 90 % fill: the probe runs and the cache misses on the 128-byte entries.
// - Filled to 10, 50 or 90 % of capacity with distinct connections: client 10.64.0.0/10 addresses
//   and ports, VIP 10.210.9.10:80, 32 LIPs 10.210.2.100–131 with their ports, one real server. Each
//   connection is indexed twice (inbound and outbound tuple), so a 90 % fill puts 1.9 M keys in
//   4.2 M slots (load 0.45).
// - `keyCount` lookup keys are drawn in advance with a fixed-seed generator: hits are the inbound or
//   the outbound key (alternately) of random live connections; misses are tuples that were never
//   inserted (clients from 172.16.0.0/12), so every miss walks its probe run to an empty slot.
//   The loop steps through the keys in order, so consecutive lookups touch unrelated slots and
//   entries, as packets of many flows do.
// Filling takes about a second at 90 % and is done once per fill, outside the measured region.

import SluiceCore
import SluicePacket

/// A filled connection table and prepared hit and miss keys.
public struct TableLookupFixture: ~Copyable {
    /// Production default capacity per worker.
    public static let capacity = 1 << 20
    /// Keys prepared per kind (a power of two: the loop masks the index).
    public static let keyCount = 1 << 16
    public static let seed: (UInt64, UInt64) = (0x0123_4567_89AB_CDEF, 0x0F1E_2D3C_4B5A_6978)

    /// The fill in percent.
    public let percent: Int
    public var table: ConnectionTable
    public let hits: [FlowKey]
    public let misses: [FlowKey]

    /// Fills a table to `percent` % and draws the keys; checks that every hit key is found and every
    /// miss key is not.
    public init(percent: Int) throws(PathWorld.Failure) {
        precondition(percent > 0 && percent <= 100)
        self.percent = percent
        let count = Self.capacity * percent / 100
        table = ConnectionTable(capacity: Self.capacity, seed: Self.seed)
        for i in 0..<count {
            guard table.insert(Self.connection(i)) != nil else {
                throw PathWorld.Failure("insert \(i) of \(count) failed")
            }
        }
        var rng = SplitMix64(state: UInt64(percent))
        var hits: [FlowKey] = []
        var misses: [FlowKey] = []
        hits.reserveCapacity(Self.keyCount)
        misses.reserveCapacity(Self.keyCount)
        for k in 0..<Self.keyCount {
            let c = Self.connection(Int(rng.next() % UInt64(count)))
            hits.append(k & 1 == 0 ? c.inboundKey : c.outboundKey)
            let r = rng.next()
            misses.append(
                FlowKey(
                    source: IPAddress(v4: 0xAC10_0000 | UInt32(truncatingIfNeeded: r & 0x000F_FFFF)),
                    destination: Self.vip,
                    sourcePort: UInt16(truncatingIfNeeded: r >> 32), destinationPort: 80, transport: 6))
        }
        for key in hits where table.lookup(key) == nil { throw PathWorld.Failure("a hit key was not found") }
        for key in misses where table.lookup(key) != nil { throw PathWorld.Failure("a miss key was found") }
        self.hits = hits
        self.misses = misses
    }

    static let vip = IPAddress(v4: 0x0AD2_090A)

    /// Connection `i`: distinct inbound and outbound tuples for every i < 2 048 000.
    public static func connection(_ i: Int) -> Connection {
        let client = IPAddress(v4: 0x0A40_0000 | UInt32(i >> 4))  // 10.64.0.0/10
        let clientPort = UInt16(10_000 + (i & 15) * 3_000)
        let lip = IPAddress(v4: 0x0AD2_0264 &+ UInt32(i & 31))  // 10.210.2.100–131
        let localPort = UInt16(1_025 + (i >> 5) % 64_000)
        return Connection(
            client: client, clientPort: clientPort, vip: vip, vport: 80, local: lip, localPort: localPort,
            real: IPAddress(v4: 0x0AD2_0202), realPort: 8080, transport: 6, state: .established, serviceIndex: 0,
            realServerIndex: 0, expiresAt: 1_000_000)
    }

    /// Looks up `n` of the hit (or miss) keys, in order and wrapping; returns how many were found.
    @inlinable
    public func lookups(hits: Bool, _ n: Int) -> Int {
        let keys = hits ? self.hits : misses
        var found = 0
        var i = 0
        for _ in 0..<n {
            if table.lookup(keys[i & (Self.keyCount - 1)]) != nil { found &+= 1 }
            i &+= 1
        }
        return found
    }
}

/// A small deterministic generator (SplitMix64), so that the drawn keys repeat run to run.
public struct SplitMix64: Sendable {
    public var state: UInt64

    public init(state: UInt64) { self.state = state }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
