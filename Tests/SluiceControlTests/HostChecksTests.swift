// Start-up checks of the host, on a fixture /proc: a LIP the host owns, forwarding on, frames
// smaller than the MTU and an old kernel are each reported; a clean host yields nothing.

import Foundation
import SluiceControl
import Testing

@Suite struct HostChecksTests {
    func procRoot(forwarding: String, lipLocal: Bool) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-proc-\(UUID())").path
        try FileManager.default.createDirectory(atPath: root + "/net", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/sys/net/ipv4", withIntermediateDirectories: true)
        let lip = lipLocal ? "10.20.0.240" : "10.20.0.1"
        let trie = """
            Local:
              +-- 0.0.0.0/0 3 0 5
                 |-- \(lip)
                    /32 host LOCAL
                 |-- 10.20.0.255
                    /32 link BROADCAST
            """
        try trie.write(toFile: root + "/net/fib_trie", atomically: true, encoding: .utf8)
        try "fe800000000000000000000000000001 02 40 20 80 eth0\n".write(
            toFile: root + "/net/if_inet6", atomically: true, encoding: .utf8)
        try forwarding.write(toFile: root + "/sys/net/ipv4/ip_forward", atomically: true, encoding: .utf8)
        return root
    }

    @Test func cleanHostPasses() throws {
        let c = try ConfigurationLoader.parse(yaml: Fixtures.minimal)
        let root = try procRoot(forwarding: "0\n", lipLocal: false)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let report = HostChecks.run(c, interfaces: [("eth0", 1500)], kernelRelease: "6.18.44", procRoot: root)
        #expect(report.errors.isEmpty && report.warnings.isEmpty)
    }

    @Test func everyProblemIsReported() throws {
        let c = try ConfigurationLoader.parse(yaml: Fixtures.minimal)
        let root = try procRoot(forwarding: "1\n", lipLocal: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let report = HostChecks.run(c, interfaces: [("eth0", 9000)], kernelRelease: "5.15.0-91-generic", procRoot: root)
        #expect(report.errors.count == 3)
        #expect(report.errors.contains { $0.contains("10.20.0.240 is an address of this host") })
        #expect(report.errors.contains { $0.contains("MTU 9000") })
        #expect(report.errors.contains { $0.contains("kernel 5.15.0-91-generic") })
        #expect(report.warnings.count == 1 && report.warnings[0].contains("IPv4 forwarding is on"))
    }
}
