// Per-packet cost of the two SYNPROXY paths through `Dataplane.process` (issue 3; docs/design.md §6):
//
//   synproxy-syn-answer   client SYN → cookie SYN-ACK, in place (stateless; the SYN's bytes are
//                         restored every iteration). 10^6 packets per sample.
//   synproxy-cookie-ack   client ACK with a valid cookie → connection created, ACK held, RS SYN in
//                         the output queue. 1000 ACKs per sample (`scalingFactor: .kilo`), each from
//                         a distinct client port; between samples, outside the measured region, a
//                         manual clock advances 200 ms and the timer wheel expires the batch's
//                         connections (SynProxyFixtures/CookieAckBench.swift has the whole method).
//
// Metrics: wall clock per packet; `mallocCountTotal`, gated by the committed thresholds in
// Perf/Thresholds/<swift>/ at the harness's own count with an absolute tolerance of 0, so one
// allocation per packet fails `swift package benchmark thresholds check`; `instructions` where the
// machine has hardware counters (Perf/micro-synproxy.sh --callgrind counts them otherwise).
//
// The cookie-ACK state (a long-lived data plane) must survive from one sample to the next, and a
// benchmark closure is @Sendable: it lives in a `Mutex` inside a final class, taken once per sample
// (outside the measured region).

import Benchmark
import SynProxyFixtures
import Synchronization

/// The long-lived cookie-ACK state, shared by the closure's samples.
final class CookieAckState: Sendable {
    let bench: Mutex<CookieAckBench?>

    init() {
        do {
            bench = Mutex(try CookieAckBench())
        } catch {
            print("SynProxyBenchmarks: cookie-ACK benchmark cannot run: \(error)")
            bench = Mutex(nil)
        }
    }
}

let benchmarks: @Sendable () -> Void = {
    let base = Benchmark.Configuration(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .instructions],
        timeUnits: .nanoseconds,
        warmupIterations: 1,
        scalingFactor: .mega,
        maxDuration: .seconds(2),
        maxIterations: 15,
        thresholds: [.mallocCountTotal: .init(absolute: [.p90: 0])]
    )

    // The harness's own allocations per sample (an empty loop), for reading the thresholds.
    Benchmark("synproxy-harness-empty-loop", configuration: base) { benchmark in
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            blackHole(i)
        }
        benchmark.stopMeasurement()
    }

    // Registration answers one SYN and checks the answer; a data plane that cannot has the
    // benchmark skipped with a message instead of timing another path.
    var synConfiguration = base
    synConfiguration.maxDuration = .seconds(5)
    do {
        var dataplane = SynProxyTopology.makeDataplane()
        _ = try SynAnswerReplay(dataplane: &dataplane, network: SynProxyTopology.network())
    } catch {
        print("SynProxyBenchmarks: synproxy-syn-answer skipped: \(error)")
        synConfiguration.skip = true
    }
    Benchmark("synproxy-syn-answer", configuration: synConfiguration) { benchmark in
        let network = SynProxyTopology.network()
        var dataplane = SynProxyTopology.makeDataplane()
        var buffer = SynProxyTopology.makeBuffer()
        let replay: SynAnswerReplay
        do {
            replay = try SynAnswerReplay(dataplane: &dataplane, network: network)
        } catch {
            fatalError("\(error)")
        }
        var answered = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            if replay.step(&dataplane, &buffer, network: network) == .transmit(.external) { answered &+= 1 }
        }
        benchmark.stopMeasurement()
        if answered != benchmark.scaledIterations.count {
            benchmark.error("\(benchmark.scaledIterations.count - answered) SYNs were not answered")
        }
    }

    let state = CookieAckState()
    var ackConfiguration = base
    ackConfiguration.scalingFactor = .kilo
    ackConfiguration.maxIterations = 200
    ackConfiguration.skip = state.bench.withLock { $0 == nil }
    Benchmark("synproxy-cookie-ack", configuration: ackConfiguration) { benchmark in
        precondition(benchmark.scaledIterations.count == CookieAckBench.batchSize, "scaling factor is not .kilo")
        state.bench.withLock { bench in
            do {
                try bench!.prepare()
            } catch {
                fatalError("\(error)")
            }
            benchmark.startMeasurement()
            let held = bench!.run()
            benchmark.stopMeasurement()
            if held != CookieAckBench.batchSize {
                benchmark.error("\(CookieAckBench.batchSize - held) of \(CookieAckBench.batchSize) ACKs were not held")
            }
        }
    }
}
