// `dataplane.napi_defer_hard_irqs` and `gro_flush_timeout`: read as a pair within the kernel's bounds, a
// change needs a restart, the start-up summary names them; written to an interface folder of sysfs's
// shape and put back exactly as found, all or nothing.

import Foundation
import SluiceControl
import Testing

@Suite struct NAPIDeferralTests {
    @Test func readAsAPair() throws {
        let both = try parsed(
            template(topExtra: "dataplane:\n  napi_defer_hard_irqs: 2\n  gro_flush_timeout: 200000\n"))
        #expect(both.dataplane.napiDeferral == NAPIDeferral(hardIRQs: 2, flushTimeoutNanoseconds: 200_000))
        #expect(try parsed(template()).dataplane.napiDeferral == nil)
        // Zero for both is a choice too: it switches a deferral the host set off for the run.
        let zero = try parsed(template(topExtra: "dataplane:\n  napi_defer_hard_irqs: 0\n  gro_flush_timeout: 0\n"))
        #expect(zero.dataplane.napiDeferral == NAPIDeferral(hardIRQs: 0, flushTimeoutNanoseconds: 0))

        let alone = problems(template(topExtra: "dataplane:\n  napi_defer_hard_irqs: 2\n"))
        #expect(alone.map(\.keyPath) == ["dataplane.napi_defer_hard_irqs"])
        #expect(alone.first?.message.contains("needs gro_flush_timeout as well") == true)
        let timeoutAlone = problems(template(topExtra: "dataplane:\n  gro_flush_timeout: 200000\n"))
        #expect(timeoutAlone.map(\.keyPath) == ["dataplane.gro_flush_timeout"])

        let tooLong = problems(
            template(topExtra: "dataplane:\n  napi_defer_hard_irqs: 2\n  gro_flush_timeout: 20000000\n"))
        #expect(tooLong.map(\.keyPath) == ["dataplane.gro_flush_timeout"])
        let negative = problems(template(topExtra: "dataplane:\n  napi_defer_hard_irqs: -1\n  gro_flush_timeout: 1\n"))
        #expect(negative.map(\.keyPath) == ["dataplane.napi_defer_hard_irqs"])
    }

    @Test func aChangeNeedsARestartAndTheSummarySaysIt() throws {
        let off = try parsed(template())
        let on = try parsed(template(topExtra: "dataplane:\n  napi_defer_hard_irqs: 2\n  gro_flush_timeout: 50000\n"))
        #expect(
            ReloadDiff(from: off, to: on).restartRequired == [
                "dataplane.napi_defer_hard_irqs", "dataplane.gro_flush_timeout",
            ])
        #expect(ReloadDiff(from: on, to: on).restartRequired.isEmpty)
        #expect(
            StartupSummary.describe(on).contains(
                "napi deferral on the served interfaces: napi_defer_hard_irqs 2, gro_flush_timeout 50000 ns "
                    + "(put back at stop)"))
        #expect(!StartupSummary.describe(off).contains { $0.hasPrefix("napi deferral") })
    }

    @Test func writtenAndPutBackAsFound() throws {
        let root = try Self.sysfs(["ext0": ("0", "0"), "int0": ("1", "20000")])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let deferral = NAPIDeferral(hardIRQs: 2, flushTimeoutNanoseconds: 200_000)
        // The internal interface named twice (one interface for both sides) is written once.
        let saved = try deferral.apply(to: ["ext0", "int0", "int0"], root: root)
        #expect(saved.map(\.interface) == ["ext0", "int0"])
        #expect(try Self.values(root, "ext0") == ("2", "200000"))
        #expect(try Self.values(root, "int0") == ("2", "200000"))
        #expect(NAPIDeferral.restore(saved, root: root).isEmpty)
        #expect(try Self.values(root, "ext0") == ("0", "0"))
        #expect(try Self.values(root, "int0") == ("1", "20000"))
    }

    @Test func allOrNothing() throws {
        let root = try Self.sysfs(["ext0": ("0", "0")])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let deferral = NAPIDeferral(hardIRQs: 2, flushTimeoutNanoseconds: 200_000)
        do {
            _ = try deferral.apply(to: ["ext0", "missing0"], root: root)
            Issue.record("an interface without the files was accepted")
        } catch {
            #expect(
                error.description.contains(
                    "cannot read \(root)/missing0/napi_defer_hard_irqs (no such file)"))
            #expect(error.description.contains("leave dataplane.napi_defer_hard_irqs and gro_flush_timeout out"))
        }
        #expect(try Self.values(root, "ext0") == ("0", "0"))
        // An interface gone before the stop: each value that could not be put back is reported.
        let saved = try deferral.apply(to: ["ext0"], root: root)
        try FileManager.default.removeItem(atPath: "\(root)/ext0")
        let problems = NAPIDeferral.restore(saved, root: root)
        #expect(problems.count == 2)
        #expect(
            problems.allSatisfy {
                $0.hasPrefix("cannot write ") && $0.contains("\(root)/ext0/") && $0.hasSuffix("(no such file)")
            })
    }

    /// A folder shaped like /sys/class/net with the two files per interface: (napi_defer_hard_irqs,
    /// gro_flush_timeout).
    static func sysfs(_ interfaces: [String: (String, String)]) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-napi-\(UUID().uuidString)")
            .path
        for (name, (irqs, timeout)) in interfaces {
            try FileManager.default.createDirectory(atPath: "\(root)/\(name)", withIntermediateDirectories: true)
            try (irqs + "\n").write(toFile: "\(root)/\(name)/napi_defer_hard_irqs", atomically: false, encoding: .utf8)
            try (timeout + "\n").write(toFile: "\(root)/\(name)/gro_flush_timeout", atomically: false, encoding: .utf8)
        }
        return root
    }

    static func values(_ root: String, _ name: String) throws -> (String, String) {
        func read(_ file: String) throws -> String {
            try String(contentsOfFile: "\(root)/\(name)/\(file)", encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return (try read("napi_defer_hard_irqs"), try read("gro_flush_timeout"))
    }
}
