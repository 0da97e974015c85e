// Every class of mistake is reported with the key path an operator would look for, and all of them
// are reported in one pass.

import Foundation
import SluiceControl
import Testing

@Suite struct ConfigurationValidationTests {
    @Test func badAddressNamesItsKeyPath() {
        let found = problems(template(rsExtra: "- { address: 10.30.0.300, port: 8080 }"))
        #expect(found.count == 1)
        #expect(found.first?.keyPath == "virtual_servers[0].real_servers[2].address")
        #expect(found.first?.message == "\"10.30.0.300\" is not an IPv4 or IPv6 address")
    }

    @Test func descriptionListsOneProblemPerLineWithTheFile() {
        do {
            _ = try ConfigurationLoader.parse(
                yaml: template(vsExtra: "scheduler: fifo", rsExtra: "- { address: 10.30.0.300 }"), file: "gw.yaml"
            )
            Issue.record("accepted")
        } catch {
            #expect(
                error.description == """
                    gw.yaml: virtual_servers[0].scheduler: "fifo" is not one of rr, wrr, lc, wlc, sed, nq, sh, dh, mh, maglev
                    gw.yaml: virtual_servers[0].real_servers[2].address: "10.30.0.300" is not an IPv4 or IPv6 address
                    """
            )
        }
    }

    @Test func everyProblemIsReportedAtOnce() {
        let yaml = """
            interfaces: { external: ext0, xdp_mode: turbo }
            local_address_groups:
              lips: [10.20.0.240, 10.20.0.999]
              empty: []
            virtual_servers:
              - name: web
                vip: 203.0.113.10
                port: 0
                protocol: tcp
                shceduler: wrr
                local_address_group: lipz
                real_servers:
                  - { address: 10.30.0.11, port: 70000, weight: -1 }
                  - { address: "fd00:30::1" }
              - name: web
                vip: 203.0.113.10
                port: 81
                protocol: tpc
                local_address_group: lips
                real_servers: []
            dataplane: { workers: 0, local_port_range: "3000-2000" }
            global: { log_level: loud }
            """
        #expect(
            keyPaths(yaml) == [
                "interfaces.xdp_mode",
                "local_address_groups.lips[1]",
                "local_address_groups.empty",
                "virtual_servers[0].port",
                "virtual_servers[0].shceduler",
                "virtual_servers[0].local_address_group",
                "virtual_servers[0].real_servers[0].port",
                "virtual_servers[0].real_servers[0].weight",
                "virtual_servers[0].real_servers[1].address",
                "virtual_servers[1].name",
                "virtual_servers[1].protocol",
                "dataplane.workers",
                "dataplane.local_port_range",
                "global.log_level",
            ]
        )
    }

    @Test func problemsComeInDocumentOrder() {
        let found = problems(
            """
            interfaces: { external: ext0 }
            local_address_groups: { lips: [10.20.0.240] }
            virtual_servers:
              - { name: a, vip: 203.0.113.10, port: 80, protocol: tcp, local_address_group: nope }
              - { name: a, vip: 203.0.113.11, port: 0, protocol: tcp, local_address_group: lips }
            """
        )
        #expect(
            found.map(\.keyPath) == [
                "virtual_servers[0].local_address_group", "virtual_servers[1].name", "virtual_servers[1].port",
            ])
        #expect(found.first?.line == 4)
    }

    @Test func unknownKeysAreErrorsWithSuggestions() {
        let found = problems(
            template(
                vsExtra: "shceduler: wrr\nsynproxy: true\nfoo: 1", topExtra: "dataplne: {}\nglobal: { loglevel: info }")
        )
        let messages = Dictionary(uniqueKeysWithValues: found.map { ($0.keyPath, $0.message) })
        #expect(messages["virtual_servers[0].shceduler"] == "unknown key \"shceduler\" (did you mean \"scheduler\"?)")
        #expect(messages["virtual_servers[0].synproxy"] == "unknown key \"synproxy\" (did you mean \"syn_proxy\"?)")
        #expect(
            messages["virtual_servers[0].foo"]?.hasPrefix("unknown key \"foo\"; expected one of: name, vip") == true)
        #expect(messages["dataplne"] == "unknown key \"dataplne\" (did you mean \"dataplane\"?)")
        #expect(messages["global.loglevel"] == "unknown key \"loglevel\" (did you mean \"log_level\"?)")
        #expect(found.count == 5)
    }

    @Test func unknownKeysInEveryNestedMapping() {
        let paths = keyPaths(
            """
            interfaces: { external: ext0, externl: ext1 }
            local_address_groups: { lips: [10.20.0.240] }
            virtual_servers:
              - name: web
                vip: 203.0.113.10
                port: 80
                protocol: tcp
                local_address_group: lips
                real_servers: [{ address: 10.30.0.11, wieght: 3 }]
            dataplane: { timeouts: { establised: 10 } }
            """
        )
        #expect(
            paths == [
                "interfaces.externl", "virtual_servers[0].real_servers[0].wieght", "dataplane.timeouts.establised",
            ]
        )
    }

    @Test func wrongTypesAreReported() {
        let found = problems(
            """
            interfaces: [ext0]
            local_address_groups: { lips: 10.20.0.240 }
            virtual_servers:
              - name: web
                vip: 203.0.113.10
                port: "80"
                protocol: tcp
                syn_proxy: maybe
                local_address_group: lips
                establish_timeout: soon
                real_servers: { address: 10.30.0.11 }
              - just a string
            dataplane: { workers: 1.5, decrement_ttl: 1 }
            """
        )
        let messages = Dictionary(uniqueKeysWithValues: found.map { ($0.keyPath, $0.message) })
        #expect(messages["interfaces"] == "expected a mapping (key: value pairs), found a list")
        #expect(messages["local_address_groups.lips"] == "expected a list, found the string \"10.20.0.240\"")
        #expect(messages["virtual_servers[0].port"] == "expected an integer, found the string \"80\"")
        #expect(messages["virtual_servers[0].syn_proxy"] == "expected true, false or auto, found the string \"maybe\"")
        #expect(messages["virtual_servers[0].establish_timeout"]?.hasPrefix("expected a duration") == true)
        #expect(messages["virtual_servers[0].real_servers"] == "expected a list, found a mapping")
        #expect(
            messages["virtual_servers[1]"]
                == "expected a mapping (key: value pairs), found the string \"just a string\"")
        #expect(messages["dataplane.workers"] == "expected an integer, found the number 1.5")
        #expect(messages["dataplane.decrement_ttl"] == "expected true or false, found the integer 1")
        #expect(found.count == 9)
    }

    @Test func missingRequiredKeys() {
        let paths = keyPaths(
            """
            interfaces: { internal: int0 }
            virtual_servers:
              - { name: web, real_servers: [{ port: 80 }] }
            """
        )
        #expect(
            paths == [
                "interfaces.external", "virtual_servers[0].vip", "virtual_servers[0].port",
                "virtual_servers[0].protocol", "virtual_servers[0].local_address_group",
                "virtual_servers[0].real_servers[0].address",
            ]
        )
        #expect(problems("local_address_groups: {}").map(\.keyPath) == ["interfaces", "virtual_servers"])
    }

    @Test func nullValuesAreMissingValues() {
        let found = problems(template(vsExtra: "scheduler:\nestablish_timeout:"))
        #expect(found.map(\.keyPath) == ["virtual_servers[0].scheduler", "virtual_servers[0].establish_timeout"])
        #expect(found.first?.message == "expected a string, found nothing (null)")
    }

    @Test func duplicateVirtualServersAndNames() {
        let found = problems(
            """
            interfaces: { external: ext0 }
            local_address_groups: { lips: [10.20.0.240], lips6: ["fd00:20::1"] }
            virtual_servers:
              - { name: a, vip: 203.0.113.10, port: 80, protocol: tcp, local_address_group: lips }
              - { name: b, vip: 203.0.113.10, port: 80, protocol: udp, local_address_group: lips }
              - { name: c, vip: 203.0.113.10, port: 80, protocol: tcp, local_address_group: lips }
              - { name: a, vip: 203.0.113.10, port: 81, protocol: tcp, local_address_group: lips }
              - { name: d, vip: "fd00:203:0::10", port: 80, protocol: tcp, local_address_group: lips6 }
              - { name: e, vip: "fd00:203::10", port: 80, protocol: tcp, local_address_group: lips6 }
            """
        ).filter { !$0.message.contains("no real servers") }
        #expect(found.map(\.keyPath) == ["virtual_servers[2]", "virtual_servers[3].name", "virtual_servers[5]"])
        #expect(found[0].message == "duplicate virtual server tcp 203.0.113.10:80 (also virtual_servers[0])")
        #expect(found[1].message == "duplicate name \"a\" (also virtual_servers[0])")
        #expect(found[2].message == "duplicate virtual server tcp [fd00:203::10]:80 (also virtual_servers[4])")
    }

    @Test func undefinedLocalAddressGroup() {
        let found = problems(
            template(vsExtra: "").replacingFirst("local_address_group: lips\n", "local_address_group: lipz\n"))
        #expect(found.map(\.keyPath) == ["virtual_servers[0].local_address_group"])
        #expect(found.first?.message == "undefined local address group \"lipz\" (did you mean \"lips\"?)")
        let none = problems(
            "interfaces: { external: e }\nvirtual_servers: [{ name: a, vip: 10.0.0.1, port: 1, protocol: udp, "
                + "local_address_group: g }]"
        )
        #expect(none.first?.message == "undefined local address group \"g\"; define it under local_address_groups")
    }

    @Test func emptyGroupAndDuplicateLIPs() {
        let found = problems(
            template(vsExtra: "").replacingFirst(
                "lips6: [\"fd00:20::240\"]", "lips6: []\n  other: [10.20.0.1, 10.20.0.1]"
            )
        )
        #expect(
            found.map(\.keyPath) == ["local_address_groups.lips6", "local_address_groups.other[1]"]
        )
        #expect(found[0].message == "a local address group needs at least one address")
        #expect(found[1].message == "10.20.0.1 is listed twice (also local_address_groups.other[0])")
    }

    @Test func addressFamilyMismatchesExplainFullNAT() {
        let found = problems(
            """
            interfaces: { external: ext0 }
            local_address_groups: { lips: [10.20.0.240], mixed: ["fd00:20::1", 10.20.0.241] }
            virtual_servers:
              - name: web6
                vip: "fd00:203::10"
                port: 80
                protocol: tcp
                local_address_group: lips
                real_servers: [{ address: 10.30.0.11 }, { address: "fd00:30::11" }]
              - name: web
                vip: 203.0.113.10
                port: 80
                protocol: tcp
                local_address_group: mixed
                real_servers: [{ address: "fd00:30::12" }]
            """
        )
        #expect(
            found.map(\.keyPath) == [
                "virtual_servers[0].local_address_group", "virtual_servers[0].real_servers[0].address",
                "virtual_servers[1].local_address_group", "virtual_servers[1].real_servers[0].address",
            ]
        )
        #expect(
            found[0].message
                == "local address group \"lips\" contains IPv4 address 10.20.0.240 but the VIP fd00:203::10 is IPv6; "
                + "FULLNAT needs local addresses of the VIP's family, so an IPv6 VIP needs a group of IPv6 addresses"
        )
        #expect(found[1].message.contains("every real server of an IPv6 VIP must be IPv6 too"))
        #expect(found[2].message.contains("contains IPv6 address fd00:20::1 but the VIP 203.0.113.10 is IPv4"))
    }

    @Test(arguments: [
        ("port: 0", "virtual_servers[0].port", "0 is out of range (1...65535)"),
        ("port: 65536", "virtual_servers[0].port", "65536 is out of range (1...65535)"),
        ("port: -1", "virtual_servers[0].port", "-1 is out of range (1...65535)"),
    ])
    func virtualServerPortRange(extra: String, path: String, message: String) {
        let yaml = template(vsExtra: "").replacingFirst("port: 80\n", extra + "\n")
        let found = problems(yaml)
        #expect(found.map(\.keyPath) == [path])
        #expect(found.first?.message == message)
    }

    @Test(arguments: [
        ("- { address: 10.30.0.13, port: 0 }", "virtual_servers[0].real_servers[2].port"),
        ("- { address: 10.30.0.13, port: 65536 }", "virtual_servers[0].real_servers[2].port"),
        ("- { address: 10.30.0.13, weight: 65536 }", "virtual_servers[0].real_servers[2].weight"),
        ("- { address: 10.30.0.13, weight: -5 }", "virtual_servers[0].real_servers[2].weight"),
        ("- { address: 10.30.0.11, port: 8080 }", "virtual_servers[0].real_servers[2]"),
        ("- { address: 203.0.113.10 }", "virtual_servers[0].real_servers[2].address"),
        ("- { address: 10.20.0.241 }", "virtual_servers[0].real_servers[2].address"),
        ("- { address: 0.0.0.0 }", "virtual_servers[0].real_servers[2].address"),
        ("- { address: 224.0.0.1 }", "virtual_servers[0].real_servers[2].address"),
        ("- { address: 127.0.0.1 }", "virtual_servers[0].real_servers[2].address"),
        ("- { address: 10.30.0.0/24 }", "virtual_servers[0].real_servers[2].address"),
    ])
    func realServerProblems(entry: String, path: String) {
        #expect(keyPaths(template(rsExtra: entry)) == [path])
    }

    @Test func weightBoundsAreAccepted() throws {
        let config = try parsed(
            template(rsExtra: "- { address: 10.30.0.13, weight: 65535 }\n- { address: 10.30.0.14, weight: 0 }"))
        #expect(config.virtualServers[0].realServers.map(\.weight) == [100, 1, 65535, 0])
    }

    @Test func vipEqualToALIPIsAnError() {
        let found = problems(template(vsExtra: "").replacingFirst("vip: 203.0.113.10", "vip: 10.20.0.241"))
        #expect(found.map(\.keyPath) == ["virtual_servers[0].vip"])
        #expect(
            found.first?.message
                == "10.20.0.241 is also a local address (local_address_groups.lips[1]); a VIP cannot be a LIP")
    }

    @Test func udpServicesRejectTCPOnlyFeatures() {
        let found = problems(
            template(vsExtra: "syn_proxy: true\nclient_address: toa").replacingFirst("protocol: tcp", "protocol: udp")
        )
        #expect(found.map(\.keyPath) == ["virtual_servers[0].syn_proxy", "virtual_servers[0].client_address"])
        #expect(found[1].message == "toa applies only to tcp services; use none")
    }

    @Test(arguments: [
        ("local_port_range: \"3000-2000\"", "the low port 3000 is above the high port 2000"),
        ("local_port_range: \"0-100\"", "ports must be between 1 and 65535, got \"0-100\""),
        ("local_port_range: \"1025-65536\"", "ports must be between 1 and 65535, got \"1025-65536\""),
        ("local_port_range: 1025", "\"1025\" is not a port range (\"LOW-HIGH\", e.g. \"1025-65535\")"),
        ("local_port_range: \"a-b\"", "\"a-b\" is not a port range (\"LOW-HIGH\", e.g. \"1025-65535\")"),
        ("local_port_range: \"2000-2001\"\n  workers: 3", "2 ports cannot be split between 3 workers"),
    ])
    func invalidPortRanges(entry: String, message: String) {
        let found = problems(template(topExtra: "dataplane:\n  " + entry))
        #expect(found.map(\.keyPath) == ["dataplane.local_port_range"])
        #expect(found.first?.message == message)
    }

    @Test(arguments: [
        ("workers: 0", "dataplane.workers"),
        ("workers: 257", "dataplane.workers"),
        ("queues: 0", "dataplane.queues"),
        ("connection_capacity: 0", "dataplane.connection_capacity"),
        ("connection_capacity: 268435457", "dataplane.connection_capacity"),
        ("frame_size: 3000", "dataplane.frame_size"),
        ("frame_size: 1024", "dataplane.frame_size"),
        ("frames: 10", "dataplane.frames"),
        ("mss_clamp: 100", "dataplane.mss_clamp"),
        ("idle_spin_rounds: -1", "dataplane.idle_spin_rounds"),
        ("idle_spin_rounds: 1000001", "dataplane.idle_spin_rounds"),
        ("timeouts: { established: 0 }", "dataplane.timeouts.established"),
        ("timeouts: { syn_sent: 31d }", "dataplane.timeouts.syn_sent"),
        ("timeouts: { close: 10x }", "dataplane.timeouts.close"),
        ("timeouts: [1, 2]", "dataplane.timeouts"),
    ])
    func invalidDataplaneValues(entry: String, path: String) {
        #expect(keyPaths(template(topExtra: "dataplane:\n  " + entry)) == [path])
    }

    @Test(arguments: [
        ("external: \"\"", "interfaces.external"),
        ("external: averyveryverylongname", "interfaces.external"),
        ("external: ext0\n  internal: \"a/b\"", "interfaces.internal"),
    ])
    func invalidInterfaceNames(entry: String, path: String) {
        let yaml = template().replacingFirst("external: ext0\n  internal: int0", entry)
        #expect(keyPaths(yaml) == [path])
    }

    @Test func invalidServiceNames() {
        #expect(keyPaths(template().replacingFirst("name: web\n", "name: \"we b\"\n")) == ["virtual_servers[0].name"])
    }

    @Test func emptyStatsFileIsAnError() {
        #expect(keyPaths(template(topExtra: "global: { stats_file: \"\" }")) == ["global.stats_file"])
    }
}

extension String {
    /// `self` with the first occurrence of `target` replaced; a test that relies on the replacement
    /// fails if `target` is absent.
    func replacingFirst(_ target: String, _ replacement: String) -> String {
        guard let range = range(of: target) else {
            Issue.record("fixture does not contain \(target)")
            return self
        }
        return replacingCharacters(in: range, with: replacement)
    }
}
