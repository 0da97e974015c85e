// fullnat-probe: replays the established FULLNAT step N times, Swift or C, for instruction counting with
// callgrind (Perf/micro.sh --callgrind), whose counts repeat exactly run to run and ignore other load on
// the machine. Two runs with different N give the per-packet count as a difference, without the setup.
// The loop lives in a function: top-level variables are globals, and globals pay dynamic exclusivity
// checks that a worker's locals do not.
//
//   fullnat-probe swift|c|swift-copy|c-copy inbound|outbound N
// The -copy modes run only the frame restore of each step: the harness's share, which a worker (handed a
// span over its UMEM frame) does not pay.

import FullNATFixtures
import Glibc
import SluiceCore

/// Runs `iterations` steps and returns how many frames were forwarded.
func replay(mode: String, inbound: Bool, iterations: Int) throws(EstablishedFlow.Failure) -> Int {
    let network = BenchTopology.network()
    var dataplane = SwiftReplay.makeDataplane()
    var buffer = SwiftReplay.makeBuffer()
    let replay = try SwiftReplay(inbound: inbound, dataplane: &dataplane, network: network)
    let direction = CReference.direction(inbound: inbound)
    var forwarded = 0
    switch mode {
    case "swift":
        for _ in 0..<iterations {
            if case .transmit = replay.step(&dataplane, &buffer, network: network) { forwarded += 1 }
        }
    case "c":
        for _ in 0..<iterations where CReference.step(direction) >= 0 {
            forwarded += 1
        }
    case "swift-copy":
        for _ in 0..<iterations where replay.restore(&buffer) > 0 {
            forwarded += 1
        }
    default:
        for _ in 0..<iterations where CReference.restore(direction) > 0 {
            forwarded += 1
        }
    }
    return forwarded
}

let arguments = CommandLine.arguments
guard arguments.count == 4, ["swift", "c", "swift-copy", "c-copy"].contains(arguments[1]),
    ["inbound", "outbound"].contains(arguments[2]),
    let iterations = Int(arguments[3]), iterations >= 0
else {
    print("usage: fullnat-probe swift|c|swift-copy|c-copy inbound|outbound ITERATIONS")
    exit(2)
}
do {
    let forwarded = try replay(mode: arguments[1], inbound: arguments[2] == "inbound", iterations: iterations)
    print("\(arguments[1]) \(arguments[2]) iterations=\(iterations) forwarded=\(forwarded)")
    exit(forwarded == iterations ? 0 : 1)
} catch {
    print("fullnat-probe: \(error)")
    exit(1)
}
