// RX queue coverage from a sysfs fixture: queues counted from `queues/rx-N`, a configuration binding
// fewer is refused with the two fixes named, skb mode (everything on queue 0) and unknown interfaces
// pass; without `dataplane.workers` one worker per RX queue, bounded by the CPUs; `workers` and
// `queues` that disagree are refused.

import Foundation
import SluiceControl
import SluiceXDP
import Testing

@Suite struct ReceiveQueuesTests {
    /// A sysfs root where `ext0` has `rx` RX queues (and as many TX queues) and `int0` has one.
    func sysRoot(rx: Int) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-sys-\(UUID().uuidString)").path
        for (interface, count) in [("ext0", rx), ("int0", 1)] {
            for i in 0..<count {
                for kind in ["rx", "tx"] {
                    try FileManager.default.createDirectory(
                        atPath: "\(root)/class/net/\(interface)/queues/\(kind)-\(i)", withIntermediateDirectories: true)
                }
            }
        }
        return root
    }

    @Test func queuesAreCountedAndAShortfallRefused() throws {
        let root = try sysRoot(rx: 4)
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(ReceiveQueues.count(interface: "ext0", sysRoot: root) == 4)
        #expect(ReceiveQueues.count(interface: "int0", sysRoot: root) == 1)
        #expect(ReceiveQueues.count(interface: "nope", sysRoot: root) == nil)
        let problem = try #require(
            ReceiveQueues.problem(interfaces: ["ext0", "int0"], bound: 1, mode: .native, sysRoot: root))
        #expect(problem.hasPrefix("interface ext0 has 4 RX queues but Sluice binds 1"))
        #expect(problem.contains("dataplane.workers: 4"))
        #expect(problem.contains("ethtool -L ext0 combined 1"))
        #expect(ReceiveQueues.problem(interfaces: ["ext0", "int0"], bound: 4, mode: .native, sysRoot: root) == nil)
        #expect(ReceiveQueues.problem(interfaces: ["ext0"], bound: 1, mode: .auto, sysRoot: root) != nil)
        #expect(ReceiveQueues.problem(interfaces: ["ext0"], bound: 1, mode: .skb, sysRoot: root) == nil)
        #expect(ReceiveQueues.problem(interfaces: ["nope"], bound: 1, mode: .native, sysRoot: root) == nil)
    }

    @Test func withoutWorkersInTheFileEachRXQueueGetsOne() throws {
        let root = try sysRoot(rx: 4)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let unset = try parsed(template())
        #expect(!unset.dataplane.workersConfigured)
        let (resolved, note) = ReceiveQueues.resolvingWorkers(unset, cpuCount: 8, sysRoot: root)
        #expect(resolved.dataplane.workers == 4)
        #expect(note == "dataplane.workers not set: 4 workers for 4 RX queue(s) of ext0, int0 and 8 CPU(s)")
        // No more workers than CPUs: the start-up check then names the unserved queues.
        #expect(ReceiveQueues.resolvingWorkers(unset, cpuCount: 2, sysRoot: root).configuration.dataplane.workers == 2)
        var pinned = unset
        pinned.dataplane.cpus = [1, 3, 5]
        #expect(ReceiveQueues.resolvingWorkers(pinned, cpuCount: 8, sysRoot: root).configuration.dataplane.workers == 3)
        // Interfaces sysfs does not know: one worker.
        #expect(
            ReceiveQueues.resolvingWorkers(unset, cpuCount: 8, sysRoot: "/nonexistent").configuration.dataplane.workers
                == 1)
        // What the file says stands.
        let set = try parsed(template(topExtra: "dataplane:\n  workers: 2\n"))
        let kept = ReceiveQueues.resolvingWorkers(set, cpuCount: 8, sysRoot: root)
        #expect(kept.configuration.dataplane.workers == 2 && kept.note == nil)
    }

    @Test func queuesIsWorkersAndTheTwoMustAgree() throws {
        let alias = try parsed(template(topExtra: "dataplane:\n  queues: 3\n"))
        #expect(alias.dataplane.workers == 3 && alias.dataplane.workersConfigured)
        let found = problems(template(topExtra: "dataplane:\n  workers: 2\n  queues: 4\n"))
        #expect(found.map(\.keyPath) == ["dataplane.queues"])
        #expect(found.first?.message.contains("dataplane.workers is 2 but dataplane.queues is 4") == true)
    }

    @Test func aReloadThatOnlyKeepsWorkersUnsetNeedsNoRestart() throws {
        let unset = try parsed(template())
        let running = ReceiveQueues.resolvingWorkers(unset, cpuCount: 8, sysRoot: try sysRoot(rx: 2)).configuration
        #expect(!ReloadDiff(from: running, to: unset).restartRequired.contains("dataplane.workers"))
        let set = try parsed(template(topExtra: "dataplane:\n  workers: 2\n"))
        #expect(ReloadDiff(from: running, to: set).restartRequired.contains("dataplane.workers"))
    }
}
