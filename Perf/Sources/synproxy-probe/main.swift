// synproxy-probe: the two SYNPROXY loops of SynProxyBenchmarks as a plain executable, for counting
// instructions with callgrind (Perf/micro-synproxy.sh --callgrind). Callgrind's counts repeat exactly
// run to run and ignore other load on the machine.
//
//   synproxy-probe syn|syn-copy|ack|ack-copy N
//
// Only the measured loops are counted: each lives in its own non-inlined function (`synLoop`,
// `ackBatch`), and the script runs callgrind with `--toggle-collect` on that function, so the set-up
// and, for the ACK path, the expiry between batches (`prepare`) are not counted. The -copy modes run
// only the frame restores: the harness's share, which a worker handed its UMEM frame does not pay.
// `ack` processes N rounded up to whole batches of 1000.

import Glibc
import SluiceCore
import SynProxyFixtures

/// Runs `iterations` SYN steps (or restores only); returns how many SYNs were answered (or restored).
@inline(never)
func synLoop(
    _ replay: SynAnswerReplay, _ dataplane: inout Dataplane, _ buffer: inout [UInt8], network: NetworkView,
    iterations: Int, copyOnly: Bool
) -> Int {
    var done = 0
    if copyOnly {
        for _ in 0..<iterations where replay.restore(&buffer) > 0 { done &+= 1 }
    } else {
        for _ in 0..<iterations where replay.step(&dataplane, &buffer, network: network) == .transmit(.external) {
            done &+= 1
        }
    }
    return done
}

/// One measured ACK batch (or its restores only).
@inline(never)
func ackBatch(_ bench: inout CookieAckBench, copyOnly: Bool) -> Int {
    copyOnly ? (bench.runRestoresOnly() > 0 ? CookieAckBench.batchSize : 0) : bench.run()
}

func main() -> Int32 {
    let arguments = CommandLine.arguments
    guard arguments.count == 3, ["syn", "syn-copy", "ack", "ack-copy"].contains(arguments[1]),
        let n = Int(arguments[2]), n >= 0
    else {
        print("usage: synproxy-probe syn|syn-copy|ack|ack-copy N")
        return 2
    }
    let mode = arguments[1]
    do {
        if mode.hasPrefix("syn") {
            let network = SynProxyTopology.network()
            var dataplane = SynProxyTopology.makeDataplane()
            var buffer = SynProxyTopology.makeBuffer()
            let replay = try SynAnswerReplay(dataplane: &dataplane, network: network)
            let done = synLoop(
                replay, &dataplane, &buffer, network: network, iterations: n, copyOnly: mode == "syn-copy")
            print("\(mode) packets=\(n) ok=\(done)")
            return done == n ? 0 : 1
        }
        var bench = try CookieAckBench()
        let batches = (n + CookieAckBench.batchSize - 1) / CookieAckBench.batchSize
        var done = 0
        for _ in 0..<batches {
            try bench.prepare()
            done += ackBatch(&bench, copyOnly: mode == "ack-copy")
        }
        print("\(mode) packets=\(batches * CookieAckBench.batchSize) ok=\(done)")
        return done == batches * CookieAckBench.batchSize ? 0 : 1
    } catch {
        print("synproxy-probe: \(error)")
        return 1
    }
}

exit(main())
