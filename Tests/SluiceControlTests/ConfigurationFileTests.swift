// Problems below the key-path level: YAML syntax errors carry a line and column, duplicate keys are
// caught by the parser, an unreadable file is a single line, and `sluice check` reports all of it.

import Foundation
import SluiceControl
import Testing

@Suite struct ConfigurationFileTests {
    @Test func yamlSyntaxErrorHasLineAndColumn() {
        let yaml = "interfaces:\n  external: ext0\nvirtual_servers: [\n  { name: web\n"
        do {
            _ = try ConfigurationLoader.parse(yaml: yaml, file: "bad.yaml")
            Issue.record("accepted")
        } catch {
            #expect(error.problems.count == 1)
            let problem = error.problems[0]
            #expect(problem.keyPath == "")
            #expect(problem.line != nil && problem.column != nil)
            #expect(problem.message.hasPrefix("YAML syntax error: "))
            #expect(error.description.hasPrefix("bad.yaml:\(problem.line!):\(problem.column!): YAML syntax error: "))
            #expect(!error.description.contains("\n"))
        }
    }

    @Test func badIndentationIsASyntaxError() {
        let found = problems("interfaces:\n  external: ext0\n internal: int0\n")
        #expect(found.count == 1)
        #expect(found.first?.line == 3)
    }

    @Test func duplicateKeysAreReportedWithTheirPosition() {
        let found = problems("interfaces:\n  external: ext0\n  external: ext1\nvirtual_servers: []\n")
        #expect(found.count == 1)
        #expect(found.first?.message == "YAML error: duplicate key \"external\" in one mapping")
        #expect(found.first?.line == 2)
    }

    @Test func emptyDocumentIsAnError() {
        for yaml in ["", "# only a comment\n"] {
            let found = problems(yaml)
            #expect(found.map(\.keyPath) == [""])
            #expect(found.first?.message.hasPrefix("the file is empty") == true)
        }
        #expect(
            problems("just text").first?.message
                == "expected a mapping (key: value pairs), found the string \"just text\"")
    }

    @Test func missingFileIsOneLine() {
        let path = "/nonexistent/sluice-\(UInt64.random(in: 0...UInt64.max)).yaml"
        do {
            _ = try ConfigurationLoader.load(path: path)
            Issue.record("accepted")
        } catch {
            #expect(error.description == "\(path): cannot read the configuration: no such file")
        }
    }

    @Test func directoryIsOneLine() {
        do {
            _ = try ConfigurationLoader.load(path: NSTemporaryDirectory())
            Issue.record("accepted")
        } catch {
            #expect(error.description == "\(NSTemporaryDirectory()): cannot read the configuration: it is a directory")
        }
    }

    @Test func loadNamesTheFileInEveryLine() throws {
        let path = NSTemporaryDirectory() + "sluice-test-\(UInt64.random(in: 0...UInt64.max)).yaml"
        try template(rsExtra: "- { address: 10.30.0.300 }").replacingFirst("port: 80\n", "port: 0\n")
            .write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try ConfigurationLoader.load(path: path)
            Issue.record("accepted")
        } catch {
            let lines = error.description.split(separator: "\n").map(String.init)
            #expect(
                lines == [
                    "\(path): virtual_servers[0].port: 0 is out of range (1...65535)",
                    "\(path): virtual_servers[0].real_servers[2].address: "
                        + "\"10.30.0.300\" is not an IPv4 or IPv6 address",
                ]
            )
        }
    }

    @Test func checkReportsValidFilesAndWarnings() throws {
        let path = NSTemporaryDirectory() + "sluice-check-\(UInt64.random(in: 0...UInt64.max)).yaml"
        try (template() + "\n").replacingFirst(
            "lips6: [\"fd00:20::240\"]", "lips6: [\"fd00:20::240\"]\n  spare: [10.20.0.9]"
        )
        .write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let check = ConfigurationCheck.run(path: path)
        #expect(check.isValid)
        #expect(check.exitCode == 0)
        #expect(check.lines.count == 3)
        #expect(check.lines.first == "\(path): OK: 2 virtual servers, 3 real servers, 3 local address groups")
        // The default sizing: 2^20 connections x 160 B, UMEM 4096 x 2048 B, 4096 hold slots, 2 MiB templates,
        // the fragment table and one worker's fragment hold (1.6 + 0.25 MiB).
        #expect(
            check.lines.dropFirst().first
                == "\(path): memory: about 180 MiB (connection tables 160 MiB, UMEM 8 MiB, SYN-proxy hold slots "
                + "8 MiB, persistence templates 2 MiB, fragments 2 MiB) preallocated")
        #expect(
            check.lines.last
                == "\(path): warning: local_address_groups.spare: "
                + "local address group \"spare\" is not used by any virtual server")
        let verbose = ConfigurationCheck.run(path: path, verbose: true)
        #expect(verbose.lines.count > check.lines.count)
    }

    @Test func checkReportsEveryProblemAndACount() {
        let check = ConfigurationCheck.run(path: Fixtures.shippedConfigPath + ".missing")
        #expect(!check.isValid)
        #expect(check.exitCode == 1)
        #expect(check.lines.count == 1)

        let path = NSTemporaryDirectory() + "sluice-check-\(UInt64.random(in: 0...UInt64.max)).yaml"
        try? template(vsExtra: "scheduler: x\nsyn_proxy: 3").write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let bad = ConfigurationCheck.run(path: path)
        #expect(bad.exitCode == 1)
        #expect(bad.lines.count == 3)
        #expect(bad.lines.last == "\(path): 2 problems")
    }

    @Test func shippedConfigurationChecksClean() {
        let check = ConfigurationCheck.run(path: Fixtures.shippedConfigPath)
        #expect(check.isValid)
        #expect(check.lines.count == 2)
    }

    @Test func whatTheHostCannotHoldIsRefused() throws {
        let root = NSTemporaryDirectory() + "sluice-proc-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try "MemTotal:        1000000 kB\nMemAvailable:     102400 kB\n".write(
            toFile: root + "/meminfo", atomically: true, encoding: .utf8)
        let check = ConfigurationCheck.run(path: Fixtures.shippedConfigPath, procRoot: root)
        #expect(!check.isValid)
        #expect(check.lines.count == 1 && check.lines[0].contains("more than the 100 MiB this host has available"))
        try "MemAvailable:   4000000 kB\n".write(toFile: root + "/meminfo", atomically: true, encoding: .utf8)
        #expect(ConfigurationCheck.run(path: Fixtures.shippedConfigPath, procRoot: root).isValid)
    }
}
