// RX queue coverage from a sysfs fixture: queues counted from `queues/rx-N`, a configuration binding
// fewer is refused with the two fixes named, skb mode (everything on queue 0) and unknown interfaces
// pass.

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
}
