// Per-packet cost of the paths issue 5 lists beyond FULLNAT and SYNPROXY (fixtures in
// Perf/Sources/PathFixtures, method in Perf/README.md "Micro benchmarks"):
//
//   icmp-from-rs-side        frag-needed from a router behind Sluice about a client segment,
//                            translated to VIP → client (Dataplane.process)
//   icmp-from-client-side    the same about a real-server segment, translated to LIP → RS
//   table-lookup-{10,50,90}-{hit,miss}  ConnectionTable.lookup at that fill of a 2^20 table
//   packet-toa-ack, packet-toa-data     TOA.insert on the handshake-completing ACK / first data
//   packet-proxy-{v1,v2,v2-tlv}-data    PROXY header insertion into the first data segment
//   dataplane-{toa-ack,toa-data,proxy-v2-data,proxy-v1-data}  the same through Dataplane.process on
//                            a client_address service (FULLNAT rewrite + insertion), skipped with the
//                            reason when the data plane does not insert
//
// Every benchmark is 10^6 packets (or lookups) per sample; set-up (data planes, handshakes, table
// fills, checks of the output) stays outside the measured region. Metrics: wall clock per packet,
// `mallocCountTotal` (gated: the committed thresholds hold the harness's own count, the
// `paths-harness-empty-loop` figure, with an absolute tolerance of 0, so one allocation per packet
// fails `swift package benchmark thresholds check`), and `instructions` where the machine has
// hardware counters (Perf/micro-paths.sh --callgrind counts them with valgrind otherwise).
//
// The table fixtures are large (a 2^20 table is 164 MiB) and slow to fill, so one is kept at a time,
// in a `Mutex` inside a final class (benchmark closures are @Sendable), and rebuilt when the fill
// changes; the benchmarks are registered fill by fill so that each fill is built once.

import Benchmark
import PathFixtures
import SluiceCore
import Synchronization

/// The one live table fixture, shared by the lookup benchmarks' samples.
final class TableState: Sendable {
    let fixture = Mutex<TableLookupFixture?>(nil)
}

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

    Benchmark("paths-harness-empty-loop", configuration: base) { benchmark in
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            blackHole(i)
        }
        benchmark.stopMeasurement()
    }

    // ICMP translation.
    for fromServerSide in [true, false] {
        replayBenchmark(
            fromServerSide ? "icmp-from-rs-side" : "icmp-from-client-side", configuration: base,
            failure: "errors were not translated"
        ) { dataplane, network in
            try ICMPErrorFixture.make(fromServerSide: fromServerSide, dataplane: &dataplane, network: network)
        }
    }

    // Connection-table lookups.
    let tables = TableState()
    for percent in [10, 50, 90] {
        for hit in [true, false] {
            var configuration = base
            configuration.maxIterations = 8
            Benchmark("table-lookup-\(percent)-\(hit ? "hit" : "miss")", configuration: configuration) { benchmark in
                tables.fixture.withLock { fixture in
                    if fixture?.percent != percent {
                        fixture = nil
                        do {
                            fixture = try TableLookupFixture(percent: percent)
                        } catch {
                            fatalError("\(error)")
                        }
                    }
                    let n = benchmark.scaledIterations.count
                    benchmark.startMeasurement()
                    let found = fixture!.lookups(hits: hit, n)
                    benchmark.stopMeasurement()
                    if found != (hit ? n : 0) {
                        benchmark.error("\(found) of \(n) lookups found an entry; expected \(hit ? n : 0)")
                    }
                }
            }
        }
    }

    // Client-address insertion as pure packet operations.
    for operation in SegmentOpFixture.Operation.allCases {
        var configuration = base
        do {
            _ = try SegmentOpFixture(operation)
        } catch {
            print("PathBenchmarks: packet-\(operation.rawValue) skipped: \(error)")
            configuration.skip = true
        }
        Benchmark("packet-\(operation.rawValue)", configuration: configuration) { benchmark in
            let fixture: SegmentOpFixture
            do {
                fixture = try SegmentOpFixture(operation)
            } catch {
                fatalError("\(error)")
            }
            var buffer = PathWorld.makeBuffer()
            var done = 0
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations where fixture.step(&buffer) {
                done &+= 1
            }
            benchmark.stopMeasurement()
            if done != benchmark.scaledIterations.count {
                benchmark.error("\(benchmark.scaledIterations.count - done) insertions failed")
            }
        }
    }

    // Client-address insertion through the data plane.
    for c in ClientAddressReplay.Case.allCases {
        replayBenchmark("dataplane-\(c.rawValue)", configuration: base, failure: "segments were not forwarded") {
            dataplane, network in
            try ClientAddressReplay.make(c, dataplane: &dataplane, network: network)
        }
    }
}

/// Registers `name`: the frames `make` prepares, replayed through a data plane 10^6 times per sample.
/// Registration builds the fixture once: a data plane that cannot handle the frames has the benchmark
/// skipped with the reason instead of timing drops; every replayed frame must come out, else `failure`.
func replayBenchmark(
    _ name: String, configuration base: Benchmark.Configuration, failure: String,
    make: @escaping @Sendable (inout Dataplane, NetworkView) throws -> FrameReplay
) {
    var configuration = base
    do {
        var dataplane = PathWorld.makeDataplane()
        _ = try make(&dataplane, PathWorld.network())
    } catch {
        print("PathBenchmarks: \(name) skipped: \(error)")
        configuration.skip = true
    }
    Benchmark(name, configuration: configuration) { benchmark in
        let network = PathWorld.network()
        var dataplane = PathWorld.makeDataplane()
        var buffer = PathWorld.makeBuffer()
        let replay: FrameReplay
        do {
            replay = try make(&dataplane, network)
        } catch {
            fatalError("\(error)")
        }
        var done = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations where replay.step(&dataplane, &buffer, network: network) {
            done &+= 1
        }
        benchmark.stopMeasurement()
        if done != benchmark.scaledIterations.count {
            benchmark.error("\(benchmark.scaledIterations.count - done) \(failure)")
        }
    }
}
