// Configurations that must not hang or exhaust the daemon, answered quickly with a clear problem:
// aliases (the alias-as-key bomb above all), YAML 1.1 numbers read as something else, IPv4-mapped
// IPv6 addresses, and inputs past the stated size and count limits; while strings that merely
// contain `&`, `*` or `<<` still load.

import Foundation
import SluiceControl
import SluiceCore
import SluicePacket
import Testing

@Suite struct HostileConfigurationTests {
    /// Seconds `body` took.
    func seconds(_ body: () -> Void) -> Double {
        let start = ContinuousClock.now
        body()
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    @Test func theAliasAsKeyBombIsRefusedAtOnce() {
        // Each level's mapping uses the previous level's alias as its keys: hashing the expanded keys
        // takes ~8x longer per level in the YAML library.
        var yaml = "a0: &a0 {x: 1, y: 2}\n"
        for level in 1...12 {
            yaml += "a\(level): &a\(level) {*a\(level - 1): 1, ? [*a\(level - 1), 1] : 2, ? [*a\(level - 1), 2] : 3}\n"
        }
        yaml += template()
        var found: [ConfigurationProblem] = []
        let took = seconds { found = problems(yaml) }
        #expect(took < 1)
        #expect(found.count == 1 && found[0].message.contains("anchors, aliases and merge keys are not accepted"))
        #expect(found.first?.line == 1 && found.first?.column == 5)
    }

    @Test(arguments: [
        ("health_check: &hc { type: tcp }", "&hc"),
        ("scheduler: *sched", "*sched"),
        ("real_servers: [*rs]", "*rs"),
        ("<<: {scheduler: rr}", "<<"),
    ])
    func anchorsAliasesAndMergeKeysAreRefused(line: String, token: String) {
        let found = problems(template(vsExtra: line))
        #expect(found.count == 1)
        #expect(found.first?.message.hasPrefix(token + ":") == true)
    }

    @Test func textThatOnlyContainsTheIndicatorsLoads() throws {
        let config = try parsed(
            template(
                vsExtra: """
                    health_check:
                      type: exec
                      exec:
                        command: [/bin/sh, -c, test -e /run/ok && ls *.log]  # a comment with &x and *y
                    """))
        #expect(config.virtualServers.count == 2)
        _ = try parsed(
            template(vsExtra: "health_check: { type: exec, exec: { command: [/bin/sh, -c, \"echo *a && echo &b\"] } }"))
    }

    @Test(arguments: ["0x50", "0120", "0o120", "1:20", "1_000"])
    func yaml11NumbersAreRefusedForPorts(text: String) {
        let found = problems(template().replacingOccurrences(of: "port: 80\n", with: "port: \(text)\n"))
        #expect(
            found.contains { $0.keyPath == "virtual_servers[0].port" && $0.message.contains("not a plain decimal") })
    }

    @Test func ipv4MappedAddressesAreRefused() {
        let found = problems(template(rsExtra: "- { address: \"::ffff:10.30.0.13\", port: 8080 }"))
        #expect(
            found.map(\.message).contains { $0.contains("IPv4-mapped IPv6 address; write the IPv4 address 10.30.0.13") }
        )
    }

    @Test func sizeAndCountLimits() {
        let servers = (0..<(ConfigurationLimits.maximumRealServersPerService + 1)).map {
            "- {address: 10.\(30 + $0 >> 16).\($0 >> 8 & 255).\($0 & 255), port: 8080}"
        }
        var found: [ConfigurationProblem] = []
        let took = seconds { found = problems(template(rsExtra: servers.joined(separator: "\n"))) }
        #expect(
            found.map(\.message) == [
                "a virtual server with 65003 real servers, more than the limit of \(ConfigurationLimits.maximumRealServersPerService)"
            ])
        #expect(took < 5)
        let big = template() + "#" + String(repeating: "x", count: ConfigurationLimits.maximumBytes) + "\n"
        #expect(problems(big).first?.message.hasPrefix("the configuration is ") == true)
    }

    @Test func udpBudgetsReachTheDataplane() throws {
        let defaults = try parsed(template()).dataplaneConfiguration()
        #expect(defaults.udpFlowLimit == 0)
        #expect(defaults.udpSourceFlowLimit == UDPFlowBudget.defaultSourceLimit)
        let set = try parsed(template(topExtra: "dataplane:\n  udp_flow_limit: 5000\n  udp_source_flow_limit: 0"))
            .dataplaneConfiguration()
        #expect(set.udpFlowLimit == 5000)
        #expect(set.udpSourceFlowLimit == 0)
        #expect(
            problems(template(topExtra: "dataplane:\n  udp_source_flow_limit: 70000")).map(\.message)
                == ["70000 is out of range (0...65535)"])
        #expect(
            problems(template(topExtra: "dataplane:\n  udp_flow_limit: -1")).map(\.message)
                == ["-1 is out of range (0...268435456)"])
    }
}
