// Per-packet cost of the established FULLNAT path, Swift (`Dataplane.process`) next to a C reference of
// the same rewrite, in both directions, measured in one run (issue 2; docs/design.md §6).
//
// Each iteration restores the prebuilt TCP data segment from a pristine copy into a UMEM-chunk-sized
// buffer and processes it (`SwiftReplay.step`, `CReference.step`: the same copy + process on both sides).
// One sample is 10^6 packets (`scalingFactor: .mega`), so the per-sample setup (a fresh data plane, the
// handshake, the C/Swift byte comparison) stays outside the measured region and costs little wall time.
//
// Metrics: wall clock per packet (throughput = packets/s); `mallocCountTotal`, which must not exceed the
// harness's own count (the `harness-empty-loop` benchmark): the committed thresholds in Perf/Thresholds/
// make `swift package benchmark thresholds check` fail on any allocation in the loop; `instructions` where
// the machine exposes hardware counters (Firecracker VMs do not, and the row is then absent:
// Perf/micro.sh --callgrind counts instructions with valgrind instead).

import Benchmark
import FullNATFixtures

let benchmarks: @Sendable () -> Void = {
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .instructions],
        timeUnits: .nanoseconds,
        warmupIterations: 1,
        scalingFactor: .mega,
        maxDuration: .seconds(2),
        maxIterations: 15,
        thresholds: [.mallocCountTotal: .init(absolute: [.p90: 0])]
    )

    // Registration establishes the connection once: a data plane that cannot (a stub, or a regression)
    // has its benchmarks skipped with a message instead of timing the drop path. The C side then replays
    // a fixed connection.
    var swiftConfiguration = configuration
    var fallback: EstablishedFlow?
    do {
        var dataplane = SwiftReplay.makeDataplane()
        _ = try SwiftReplay(inbound: true, dataplane: &dataplane, network: BenchTopology.network())
    } catch {
        print("FullNATBenchmarks: Swift benchmarks skipped: \(error)")
        swiftConfiguration.skip = true
        fallback = EstablishedFlow(localPort: 40_000, seqDelta: 0x2000_0000)
    }

    // The harness's own allocations: package-benchmark 1.38.1 with the malloc interposer on Swift 6.3
    // counts 16 mallocs per sample even for an empty loop. The committed thresholds therefore hold 16 for
    // every benchmark with a tolerance of 0: one allocation per packet would add 10^6 per sample.
    Benchmark("harness-empty-loop", configuration: configuration) { benchmark in
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            blackHole(i)
        }
        benchmark.stopMeasurement()
    }

    for inbound in [true, false] {
        let name = inbound ? "established-inbound" : "established-outbound"
        Benchmark("\(name)-swift", configuration: swiftConfiguration) { benchmark in
            let network = BenchTopology.network()
            var dataplane = SwiftReplay.makeDataplane()
            var buffer = SwiftReplay.makeBuffer()
            let replay: SwiftReplay
            do {
                replay = try SwiftReplay(inbound: inbound, dataplane: &dataplane, network: network)
            } catch {
                fatalError("\(error)")
            }
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                blackHole(replay.step(&dataplane, &buffer, network: network))
            }
            benchmark.stopMeasurement()
        }
        Benchmark("\(name)-c", configuration: configuration) { benchmark in
            // Loading through SwiftReplay gives C the connection the Swift data plane chose.
            if let fallback {
                CReference.load(fallback, secret: SwiftReplay.secret)
            } else {
                do {
                    var dataplane = SwiftReplay.makeDataplane()
                    _ = try SwiftReplay(inbound: inbound, dataplane: &dataplane, network: BenchTopology.network())
                } catch {
                    fatalError("\(error)")
                }
            }
            let direction = CReference.direction(inbound: inbound)
            precondition(CReference.step(direction) == (inbound ? 1 : 0), "C reference does not forward")
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                blackHole(CReference.step(direction))
            }
            benchmark.stopMeasurement()
        }
    }
}
