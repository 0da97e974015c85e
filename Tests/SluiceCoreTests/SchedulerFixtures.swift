// Shared helpers of the scheduler tests: a seeded generator, random clients, counting picks.

import SluiceCore
import SluicePacket

/// SplitMix64: a small seeded generator, so that every run simulates the same clients.
struct SchedulerRandom: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A client of a simulated new connection.
struct SimulatedClient {
    var address: IPAddress
    var port: UInt16
}

enum SchedulerFixtures {
    static let vip = IPAddress(v4: 0xCB00_710A)  // 203.0.113.10

    /// `count` random IPv4 clients with random ports (distinct with overwhelming probability).
    static func clients(_ count: Int, seed: UInt64 = 1) -> [SimulatedClient] {
        var random = SchedulerRandom(seed: seed)
        return (0..<count).map { _ in
            SimulatedClient(
                address: IPAddress(v4: UInt32.random(in: 0...UInt32.max, using: &random)),
                port: UInt16.random(in: 1024...65535, using: &random))
        }
    }

    /// Real servers 10.30.0.(11 + i):8080 with the given weights.
    static func servers(_ weights: [UInt32]) -> [RealServerConfiguration] {
        weights.enumerated().map { i, w in
            RealServerConfiguration(address: IPAddress(v4: 0x0A1E_000B &+ UInt32(i)), port: 8080, weight: w)
        }
    }

    static func scheduler(
        _ kind: SchedulerKind, _ weights: [UInt32], seed: UInt64 = SchedulerOptions.defaultSeed, tableSize: Int = 65537,
        fallback: Bool = false, port: Bool = false
    ) -> Scheduler {
        Scheduler(
            kind: kind, servers: servers(weights),
            options: SchedulerOptions(seed: seed, maglevTableSize: tableSize, mhFallback: fallback, mhPort: port))
    }

    /// The pick of `scheduler` for `client` (-1 for nil).
    static func pick(_ scheduler: inout Scheduler, _ client: SimulatedClient, vip: IPAddress = vip) -> Int {
        scheduler.pick(client: client.address, clientPort: client.port, vip: vip) ?? -1
    }

    /// Shares of the picks per server.
    static func shares(_ picks: [Int], servers: Int) -> [Double] {
        var c = Array(repeating: 0, count: servers)
        for p in picks where p >= 0 { c[p] += 1 }
        return c.map { Double($0) / Double(picks.count) }
    }

    static func weightShares(_ weights: [UInt32]) -> [Double] {
        let total = Double(weights.reduce(0, +))
        return weights.map { Double($0) / total }
    }
}
