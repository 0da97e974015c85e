// The scheduler keys: every IPVS name and the `maglev` alias, the mh flags (warned about elsewhere),
// `dataplane.scheduler_seed` and `dataplane.maglev_table_size` (a prime), carried to the data plane.

import SluiceControl
import SluiceCore
import Testing

@Suite struct SchedulerConfigurationTests {
    @Test(arguments: [
        ("rr", SchedulerKind.rr), ("wrr", .wrr), ("lc", .lc), ("wlc", .wlc), ("sed", .sed), ("nq", .nq),
        ("sh", .sh), ("dh", .dh), ("mh", .mh), ("maglev", .mh),
    ])
    func everySchedulerNameIsAccepted(word: String, kind: SchedulerKind) throws {
        let config = try parsed(template(vsExtra: "scheduler: \(word)"))
        #expect(config.virtualServers[0].scheduler == kind)
        #expect(config.dataplaneConfiguration().services[0].scheduler == kind)
    }

    @Test func maglevFlagsAndDataplaneKeysReachTheDataplane() throws {
        let config = try parsed(
            template(
                vsExtra: "scheduler: maglev\nmh_fallback: true\nmh_port: true",
                topExtra: "dataplane:\n  scheduler_seed: 123456789\n  maglev_table_size: 4093"))
        #expect(config.warnings.isEmpty)
        let dataplane = config.dataplaneConfiguration()
        #expect(dataplane.services[0].mhFallback)
        #expect(dataplane.services[0].mhPort)
        #expect(!dataplane.services[1].mhFallback)
        #expect(dataplane.schedulerSeed == 123_456_789)
        #expect(dataplane.maglevTableSize == 4093)
    }

    @Test func defaultsAreFixed() throws {
        let dataplane = try parsed(template()).dataplaneConfiguration()
        #expect(dataplane.schedulerSeed == SchedulerOptions.defaultSeed)
        #expect(dataplane.maglevTableSize == 65537)
        #expect(dataplane.services[0].scheduler == .wlc)
    }

    @Test func persistenceKeysReachTheDataplane() throws {
        let config = try parsed(
            template(vsExtra: "persistence_timeout: 5m\npersistence_netmask: 24\nexpire_quiescent_template: true"))
        #expect(config.warnings.isEmpty)
        let dataplane = config.dataplaneConfiguration()
        #expect(dataplane.services[0].persistenceTimeout == 300)
        #expect(dataplane.services[0].persistenceNetmask == 24)
        #expect(dataplane.services[0].expireQuiescentTemplate)
        // The other service: no persistence.
        #expect(dataplane.services[1].persistenceTimeout == 0)
        // Without a timeout the other keys mean nothing: warned about.
        let idle = try parsed(template(vsExtra: "persistence_netmask: 24"))
        #expect(idle.warnings.map(\.keyPath) == ["virtual_servers[0].persistence_netmask"])
    }

    @Test(arguments: [
        ("persistence_timeout: 30\npersistence_netmask: 33", "33 is out of range (0...32)"),
        ("persistence_timeout: soon", nil),
        ("persistence_timeout: 30\nexpire_quiescent_template: 2", nil),
    ])
    func badPersistenceValues(entry: String, message: String?) {
        let found = problems(template(vsExtra: entry))
        #expect(found.count == 1)
        if let message { #expect(found.first?.message == message) }
        #expect(found.first?.keyPath.hasPrefix("virtual_servers[0].") == true)
    }

    @Test func thresholdsReachTheDataplaneAndAreChecked() throws {
        func server(_ extra: String) -> String {
            template(rsExtra: "- { address: 10.30.0.13, port: 8080, \(extra) }")
        }
        let config = try parsed(server("uthreshold: 100, lthreshold: 60"))
        let rs = config.dataplaneConfiguration().services[0].realServers[2]
        #expect(rs.upperThreshold == 100 && rs.lowerThreshold == 60)
        #expect(
            problems(server("uthreshold: 10, lthreshold: 10")).map(\.message) == [
                "lthreshold 10 must be below uthreshold 10"
            ])
        #expect(problems(server("uthreshold: -1")).count == 1)
        let alone = try parsed(server("lthreshold: 5"))
        #expect(alone.warnings.map(\.keyPath) == ["virtual_servers[0].real_servers[2].lthreshold"])
    }

    @Test func mhFlagsOnAnotherSchedulerAreWarnedAbout() throws {
        let config = try parsed(template(vsExtra: "scheduler: wrr\nmh_fallback: true"))
        #expect(config.warnings.map(\.keyPath) == ["virtual_servers[0].mh_fallback"])
    }

    @Test(arguments: [
        (
            "maglev_table_size: 65536",
            "65536 is not a prime number; Maglev needs a prime table size such as 65537 or 4093"
        ),
        ("maglev_table_size: 100", "100 is out of range (251...1048573)"),
        ("maglev_table_size: 2000003", "2000003 is out of range (251...1048573)"),
        ("scheduler_seed: -1", "-1 is out of range (0...9223372036854775807)"),
    ])
    func badDataplaneSchedulerValues(entry: String, message: String) {
        let found = problems(template(topExtra: "dataplane:\n  " + entry))
        #expect(found.count == 1)
        #expect(found.first?.message == message)
    }

    @Test func badFlagValuesAreErrors() {
        #expect(keyPaths(template(vsExtra: "scheduler: mh\nmh_port: maybe")) == ["virtual_servers[0].mh_port"])
    }
}
