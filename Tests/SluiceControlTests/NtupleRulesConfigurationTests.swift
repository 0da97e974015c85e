// `dataplane.ntuple_rules`: read as a boolean; a worker count the rules cannot express (not a power of
// two) refused, in the file and, when the RX queues decide the count, by `sluice check`; a change needs
// a restart.

import Foundation
import SluiceControl
import Testing

@Suite struct NtupleRulesConfigurationTests {
    @Test func readWithAPowerOfTwoWorkerCount() throws {
        let on = try parsed(template(topExtra: "dataplane:\n  workers: 4\n  ntuple_rules: true\n"))
        #expect(on.dataplane.ntupleRules)
        #expect(try !parsed(template()).dataplane.ntupleRules)
        let three = problems(template(topExtra: "dataplane:\n  workers: 3\n  ntuple_rules: true\n"))
        #expect(three.map(\.keyPath) == ["dataplane.ntuple_rules"])
        #expect(three.first?.message.contains("dataplane.workers is 3; use 2 or 4 workers") == true)
        // Off, any count will do.
        #expect(
            try parsed(template(topExtra: "dataplane:\n  workers: 3\n  ntuple_rules: false\n")).dataplane.workers == 3)
        #expect(
            problems(template(topExtra: "dataplane:\n  ntuple_rules: maybe\n")).map(\.keyPath) == [
                "dataplane.ntuple_rules"
            ])
    }

    @Test func aChangeNeedsARestart() throws {
        let off = try parsed(template(topExtra: "dataplane:\n  workers: 2\n"))
        let on = try parsed(template(topExtra: "dataplane:\n  workers: 2\n  ntuple_rules: true\n"))
        #expect(ReloadDiff(from: off, to: on).restartRequired == ["dataplane.ntuple_rules"])
    }

    @Test func checkRefusesACountTheQueuesMakeUnsteerable() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-sys-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        for queue in 0..<3 {
            try FileManager.default.createDirectory(
                atPath: "\(root)/class/net/ext0/queues/rx-\(queue)", withIntermediateDirectories: true)
        }
        let path = NSTemporaryDirectory() + "sluice-ntuple-\(UInt64.random(in: 0...UInt64.max)).yaml"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try (template(topExtra: "dataplane:\n  ntuple_rules: true\n") + "\n").write(
            toFile: path, atomically: true, encoding: .utf8)
        let check = ConfigurationCheck.run(path: path, sysRoot: root, cpuCount: 8)
        #expect(!check.isValid)
        #expect(
            check.lines == [
                "\(path): dataplane.ntuple_rules needs a power-of-two worker count, and the RX queues make 3 workers; "
                    + "use 2 or 4 workers, or turn dataplane.ntuple_rules off"
            ])
        // Four queues: four workers, which the rules can steer.
        try FileManager.default.createDirectory(
            atPath: "\(root)/class/net/ext0/queues/rx-3", withIntermediateDirectories: true)
        #expect(ConfigurationCheck.run(path: path, sysRoot: root, cpuCount: 8).isValid)
    }
}
