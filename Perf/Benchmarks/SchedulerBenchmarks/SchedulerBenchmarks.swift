// Cost of one scheduling decision (`Scheduler.pick(client:clientPort:vip:)`) for every IPVS
// algorithm at 2, 16 and 256 real servers, and of rebuilding the Maglev table (M = 65 537) when the
// weights change (method in Perf/README.md "Schedulers").
//
//   sched-harness-empty-loop      the harness alone (its allocations are the gate's baseline)
//   sched-<kind>-<n>              10^6 picks per sample over 4096 precomputed clients (random
//                                 addresses and ports from a seeded generator), weights 1…n cycling
//                                 through 1-4; lc/wlc/sed/nq see fixed counters (each pick scans
//                                 every server whatever the counts, so the cost does not depend on them)
//   sched-mh-fallback-<n>         mh with mh_fallback, one server in four quiescent, so about a quarter
//                                 of the picks walk the second hash
//   sched-mh-rebuild-65537-<n>    one `updateWeights` of an mh scheduler: the Maglev table rebuilt
//                                 (off the hot path, allocates: not gated)
//
// Metrics: wall clock per pick, `mallocCountTotal` (gated on the pick benchmarks: absolute 0 over the
// harness's own count), `instructions` where the machine has hardware counters.

import Benchmark
import SluiceCore
import SluicePacket

/// SplitMix64, so every run schedules the same clients.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// n real servers 10.30.x.y:8080 with weights 1…4 cycling, each given some connections.
func makeScheduler(_ kind: SchedulerKind, servers n: Int, fallback: Bool = false) -> Scheduler {
    let servers = (0..<n).map { i in
        RealServerConfiguration(
            address: IPAddress(v4: 0x0A1E_0000 &+ UInt32(i)), port: 8080, weight: UInt32(i % 4 + 1))
    }
    var s = Scheduler(
        kind: kind, servers: servers, options: SchedulerOptions(seed: 0x5EED, mhFallback: fallback))
    for i in 0..<n {
        for _ in 0..<(i % 5 + 1) { s.connectionOpened(i, active: true) }
        for _ in 0..<(i % 3) { s.connectionOpened(i, active: false) }
    }
    if fallback {
        // Quiesce one server in four: its slots stay (IPVS last_weight), its clients fall back.
        s.updateWeights(servers.indices.map { $0 % 4 == 1 ? 0 : servers[$0].weight })
    }
    return s
}

let clientCount = 4096
let clients: [(IPAddress, UInt16)] = {
    var random = SplitMix(state: 42)
    return (0..<clientCount).map { _ in
        (
            IPAddress(v4: UInt32.random(in: 0...UInt32.max, using: &random)),
            UInt16.random(in: 1024...65535, using: &random)
        )
    }
}()
let vip = IPAddress(v4: 0xCB00_710A)

let benchmarks: @Sendable () -> Void = {
    let base = Benchmark.Configuration(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .instructions],
        timeUnits: .nanoseconds,
        warmupIterations: 1,
        scalingFactor: .mega,
        maxDuration: .seconds(2),
        maxIterations: 10,
        thresholds: [.mallocCountTotal: .init(absolute: [.p90: 0])]
    )

    Benchmark("sched-harness-empty-loop", configuration: base) { benchmark in
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            blackHole(i)
        }
        benchmark.stopMeasurement()
    }

    for kind in SchedulerKind.allCases {
        for n in [2, 16, 256] {
            Benchmark("sched-\(kind.rawValue)-\(n)", configuration: base) { benchmark in
                var s = makeScheduler(kind, servers: n)
                let table = clients
                benchmark.startMeasurement()
                for i in benchmark.scaledIterations {
                    let c = table[i & (clientCount - 1)]
                    blackHole(s.pick(client: c.0, clientPort: c.1, vip: vip))
                }
                benchmark.stopMeasurement()
            }
        }
    }

    for n in [16, 256] {
        Benchmark("sched-mh-fallback-\(n)", configuration: base) { benchmark in
            var s = makeScheduler(.mh, servers: n, fallback: true)
            let table = clients
            benchmark.startMeasurement()
            for i in benchmark.scaledIterations {
                let c = table[i & (clientCount - 1)]
                blackHole(s.pick(client: c.0, clientPort: c.1, vip: vip))
            }
            benchmark.stopMeasurement()
        }
    }

    var rebuild = base
    rebuild.scalingFactor = .one
    rebuild.maxIterations = 50
    rebuild.thresholds = nil
    rebuild.timeUnits = .microseconds
    for n in [16, 256] {
        Benchmark("sched-mh-rebuild-65537-\(n)", configuration: rebuild) { benchmark in
            var s = makeScheduler(.mh, servers: n)
            let a = (0..<n).map { UInt32($0 % 4 + 1) }
            let b = (0..<n).map { UInt32($0 % 3 + 1) }
            var flip = false
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                flip.toggle()
                s.updateWeights(flip ? b : a)
            }
            benchmark.stopMeasurement()
            blackHole(s.tableSize)
        }
    }
}
