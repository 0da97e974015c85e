// path-probe: the loops of PathBenchmarks as a plain executable, for counting instructions with
// callgrind (Perf/micro-paths.sh --callgrind), whose counts repeat exactly run to run and ignore
// other load on the machine.
//
//   path-probe icmp-from-rs-side|icmp-from-client-side [--copy] N
//   path-probe packet-<operation> [--copy] N          (operations: SegmentOpFixture.Operation)
//   path-probe table-lookup-<10|50|90> N               (N hits, then N misses)
//   path-probe dataplane-<case> [--copy] N             (ClientAddressReplay cases, once available)
//
// Only the measured loops are counted: each lives in its own non-inlined function (`replayLoop`,
// `operationLoop`, `lookupHitLoop`, `lookupMissLoop`) and the script runs callgrind with
// `--toggle-collect` on it, so set-up (handshakes, the table fill) is not counted. With two loop
// functions collected in one run, `callgrind_annotate --inclusive=yes` separates them. `--copy` runs
// only the restores: the harness's share, which a worker handed its UMEM frame does not pay.

import Glibc
import PathFixtures
import SluiceCore

@inline(never)
func replayLoop(
    _ replay: FrameReplay, _ dataplane: inout Dataplane, _ buffer: inout [UInt8], network: NetworkView,
    iterations: Int, copyOnly: Bool
) -> Int {
    var done = 0
    if copyOnly {
        for _ in 0..<iterations where replay.restore(&buffer) > 0 { done &+= 1 }
    } else {
        for _ in 0..<iterations where replay.step(&dataplane, &buffer, network: network) { done &+= 1 }
    }
    return done
}

@inline(never)
func operationLoop(_ fixture: SegmentOpFixture, _ buffer: inout [UInt8], iterations: Int, copyOnly: Bool) -> Int {
    var done = 0
    if copyOnly {
        for _ in 0..<iterations where fixture.restore(&buffer) > 0 { done &+= 1 }
    } else {
        for _ in 0..<iterations where fixture.step(&buffer) { done &+= 1 }
    }
    return done
}

@inline(never)
func lookupHitLoop(_ fixture: borrowing TableLookupFixture, iterations: Int) -> Int {
    fixture.lookups(hits: true, iterations)
}

@inline(never)
func lookupMissLoop(_ fixture: borrowing TableLookupFixture, iterations: Int) -> Int {
    fixture.lookups(hits: false, iterations)
}

func main() -> Int32 {
    var arguments = Array(CommandLine.arguments.dropFirst())
    let copyOnly = arguments.contains("--copy")
    arguments.removeAll { $0 == "--copy" }
    guard arguments.count == 2, let n = Int(arguments[1]), n >= 0 else {
        print("usage: path-probe <case> [--copy] N")
        return 2
    }
    let name = arguments[0]
    do {
        if name.hasPrefix("icmp-") || name.hasPrefix("dataplane-") {
            let network = PathWorld.network()
            var dataplane = PathWorld.makeDataplane()
            var buffer = PathWorld.makeBuffer()
            let replay: FrameReplay
            switch name {
            case "icmp-from-rs-side", "icmp-from-client-side":
                replay = try ICMPErrorFixture.make(
                    fromServerSide: name == "icmp-from-rs-side", dataplane: &dataplane, network: network)
            default:
                guard let c = ClientAddressReplay.Case(rawValue: String(name.dropFirst("dataplane-".count))) else {
                    print("path-probe: unknown case \(name)")
                    return 2
                }
                replay = try ClientAddressReplay.make(c, dataplane: &dataplane, network: network)
            }
            let done = replayLoop(replay, &dataplane, &buffer, network: network, iterations: n, copyOnly: copyOnly)
            print("\(name)\(copyOnly ? " --copy" : "") packets=\(n) ok=\(done)")
            return done == n ? 0 : 1
        }
        if name.hasPrefix("packet-") {
            guard let operation = SegmentOpFixture.Operation(rawValue: String(name.dropFirst("packet-".count))) else {
                print("path-probe: unknown operation \(name)")
                return 2
            }
            let fixture = try SegmentOpFixture(operation)
            var buffer = PathWorld.makeBuffer()
            let done = operationLoop(fixture, &buffer, iterations: n, copyOnly: copyOnly)
            print("\(name)\(copyOnly ? " --copy" : "") packets=\(n) ok=\(done)")
            return done == n ? 0 : 1
        }
        if name.hasPrefix("table-lookup-"), let percent = Int(name.dropFirst("table-lookup-".count)) {
            let fixture = try TableLookupFixture(percent: percent)
            let hits = lookupHitLoop(fixture, iterations: n)
            let misses = lookupMissLoop(fixture, iterations: n)
            print("\(name) lookups=\(n)+\(n) hits=\(hits) misses-found=\(misses)")
            return hits == n && misses == 0 ? 0 : 1
        }
        print("path-probe: unknown case \(name)")
        return 2
    } catch {
        print("path-probe: \(error)")
        return 1
    }
}

exit(main())
