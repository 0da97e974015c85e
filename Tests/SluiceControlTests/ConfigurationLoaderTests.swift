// The happy paths: the contract example and the shipped file load, defaults fill what the file
// leaves out, and the data plane receives the resolved configuration.

import SluiceControl
import SluiceCore
import SluicePacket
import Testing

@Suite struct ConfigurationLoaderTests {
    @Test func contractExampleParses() throws {
        let config = try parsed(Fixtures.contract)
        #expect(config.interfaces.external == "ext0")
        #expect(config.interfaces.internal == "int0")
        #expect(config.interfaces.xdpMode == .auto)
        #expect(config.localAddressGroups.map(\.name) == ["lips"])
        #expect(config.localAddressGroups[0].addresses == [IPAddress("10.20.0.240")!, IPAddress("10.20.0.241")!])
        #expect(config.virtualServers.count == 1)
        let web = config.virtualServers[0]
        #expect(web.name == "web")
        #expect(web.vip == IPAddress("203.0.113.10")!)
        #expect(web.port == 80)
        #expect(web.transport == .tcp)
        #expect(web.scheduler == .wrr)
        #expect(web.localAddressGroup == "lips")
        #expect(web.synProxy == false)
        #expect(web.clientAddress == ClientAddressMode.none)
        #expect(web.establishTimeout == nil)
        #expect(
            web.realServers == [RealServerConfiguration(address: IPAddress("10.30.0.11")!, port: 8080, weight: 100)])
        #expect(config.warnings.isEmpty)
    }

    @Test func shippedConfigurationLoads() throws {
        let config = try ConfigurationLoader.load(path: Fixtures.shippedConfigPath)
        #expect(config.warnings.isEmpty)
        #expect(config.interfaces.external == "ext0")
        #expect(config.interfaces.internal == "int0")
        let byName = Dictionary(uniqueKeysWithValues: config.virtualServers.map { ($0.name, $0) })
        #expect(Set(byName.keys) == ["web", "web6", "web-pp", "echo", "echo6"])
        #expect(byName["web"]?.clientAddress == ClientAddressMode.none)
        #expect(byName["web-pp"]?.clientAddress == .proxyProtocolV2)
        #expect(byName["web-pp"]?.clientAddressOptions == ClientAddressOptions())
        #expect(byName["web-pp"]?.realServers.map(\.port) == [8088, 8088, 8088])
        #expect(byName["web"]?.realServers.map(\.weight) == [100, 100, 50])
        #expect(byName["web"]?.establishTimeout == 900)
        #expect(byName["web6"]?.vip.isV6 == true)
        #expect(byName["web6"]?.realServers.allSatisfy { $0.address.isV6 } == true)
        #expect(byName["echo"]?.transport == .udp)
        #expect(byName["echo"]?.realServers.map(\.port) == [9000, 9000, 9000])
        #expect(
            byName["echo6"]?.realServers.map(\.address) == [
                IPAddress("fd00:30::11")!, IPAddress("fd00:30::12")!, IPAddress("fd00:30::13")!,
            ])
        #expect(config.dataplane.timeouts == TimeoutTable.dpvsDefaults)
    }

    @Test func defaultsFillWhatTheFileLeavesOut() throws {
        let config = try parsed(Fixtures.minimal)
        #expect(config.interfaces.internal == "eth0")
        #expect(config.interfaces.isSingleInterface)
        #expect(config.interfaces.xdpMode == .auto)
        let web = config.virtualServers[0]
        #expect(web.scheduler == .wlc)
        #expect(web.synProxy == false)
        #expect(web.clientAddress == ClientAddressMode.none)
        #expect(web.realServers == [RealServerConfiguration(address: IPAddress("10.30.0.11")!, port: 80, weight: 1)])
        let dp = config.dataplane
        #expect(dp.workers == 1)
        #expect(dp.queues == nil)
        #expect(dp.localPortRange == 1025...65535)
        #expect(dp.connectionCapacity == 1_048_576)
        #expect(dp.frameSize == 2048)
        #expect(dp.frames == 4096)
        #expect(dp.mssClamp == 0)
        #expect(dp.decrementTTL == true)
        #expect(dp.idleSpinRounds == 0)
        #expect(dp.timeouts == TimeoutTable.dpvsDefaults)
        #expect(config.global.logLevel == .info)
        #expect(config.global.statsFile == nil)
    }

    @Test func dataplaneAndGlobalSectionsAreRead() throws {
        let config = try parsed(
            template(
                topExtra: """
                    dataplane:
                      workers: 4
                      queues: 4
                      local_port_range: "20000-29999"
                      connection_capacity: 4096
                      frame_size: 4096
                      frames: 8192
                      mss_clamp: 1400
                      decrement_ttl: false
                      idle_spin_rounds: 256
                      timeouts: { established: 15m, syn_sent: 5, udp_normal: "1h30m" }
                    global:
                      log_level: debug
                      stats_file: /run/sluice/stats
                    """
            )
        )
        let dp = config.dataplane
        #expect(dp.workers == 4)
        #expect(dp.queues == 4)
        #expect(dp.workersConfigured)
        #expect(dp.localPortRange == 20000...29999)
        #expect(dp.connectionCapacity == 4096)
        #expect(dp.frameSize == 4096)
        #expect(dp.frames == 8192)
        #expect(dp.mssClamp == 1400)
        #expect(dp.decrementTTL == false)
        #expect(dp.idleSpinRounds == 256)
        #expect(dp.timeouts[.established] == 900)
        #expect(dp.timeouts[.synSent] == 5)
        #expect(dp.timeouts[.udpNormal] == 5400)
        #expect(dp.timeouts[.finWait] == TimeoutTable.dpvsDefaults[.finWait])
        #expect(config.global.logLevel == .debug)
        #expect(config.global.statsFile == "/run/sluice/stats")
    }

    @Test(arguments: [
        ("90", UInt32(90)), ("\"90s\"", 90), ("15m", 900), ("1h30m", 5400), ("2d", 172_800), ("1h1m1s", 3661),
    ])
    func durationsAcceptSecondsAndUnits(text: String, seconds: UInt32) throws {
        let config = try parsed(template(vsExtra: "establish_timeout: \(text)"))
        #expect(config.virtualServers[0].establishTimeout == seconds)
    }

    @Test func dataplaneConfigurationResolvesGroupsAndCopiesLimits() throws {
        let config = try parsed(
            template(
                vsExtra: "scheduler: rr\nestablish_timeout: 120",
                topExtra: """
                    dataplane:
                      local_port_range: 2000-3000
                      connection_capacity: 1000
                      mss_clamp: 1200
                      decrement_ttl: false
                      timeouts: { established: 33 }
                    """
            )
        )
        let dp = config.dataplaneConfiguration()
        #expect(dp.services.count == 2)
        let web = dp.services[0]
        #expect(web.name == "web")
        #expect(web.vip == IPAddress("203.0.113.10")!)
        #expect(web.port == 80)
        #expect(web.transport == .tcp)
        #expect(web.scheduler == .rr)
        #expect(web.localAddresses == [IPAddress("10.20.0.240")!, IPAddress("10.20.0.241")!])
        #expect(web.establishTimeout == 120)
        #expect(web.realServers.map(\.weight) == [100, 1])
        #expect(dp.services[1].localAddresses == [IPAddress("fd00:20::240")!])
        #expect(dp.localPortRange == 2000...3000)
        #expect(dp.connectionCapacity == 1000)
        #expect(dp.mssClamp == 1200)
        #expect(dp.decrementTTL == false)
        #expect(dp.timeouts[.established] == 33)
        #expect(dp.timeouts[.synSent] == TimeoutTable.dpvsDefaults[.synSent])
    }

    @Test func yamlBooleansAndSexagesimalLookalikesReachTheRightParsers() throws {
        // `1:2:3:4:5:6:7:8` is a YAML 1.1 sexagesimal integer and `on` a boolean; both must still be
        // read as the text the operator wrote.
        let config = try parsed(
            """
            interfaces: { external: "on" }
            local_address_groups: { lips: [1:2:3:4:5:6:7:8] }
            virtual_servers:
              - { name: 80, vip: 1:2:3:4:5:6:7:9, port: 80, protocol: tcp, local_address_group: lips,
                  syn_proxy: no, real_servers: [{ address: "1:2:3:4:5:6:7:a" }] }
            """
        )
        #expect(config.interfaces.external == "on")
        #expect(config.localAddressGroups[0].addresses == [IPAddress("1:2:3:4:5:6:7:8")!])
        #expect(config.virtualServers[0].name == "80")
        #expect(config.virtualServers[0].vip == IPAddress("1:2:3:4:5:6:7:9")!)
        #expect(config.virtualServers[0].synProxy == false)
    }

    @Test func emptyRealServersIsAValidDrainedServiceWithAWarning() throws {
        let config = try parsed(
            """
            interfaces: { external: eth0 }
            local_address_groups: { lips: [10.20.0.240], spare: [10.20.0.250] }
            virtual_servers:
              - { name: a, vip: 203.0.113.10, port: 80, protocol: tcp, local_address_group: lips, real_servers: [] }
              - { name: b, vip: 203.0.113.10, port: 81, protocol: tcp, local_address_group: lips }
              - name: c
                vip: 203.0.113.10
                port: 82
                protocol: tcp
                local_address_group: lips
                real_servers: [{ address: 10.30.0.11, weight: 0 }]
            """
        )
        #expect(config.virtualServers.map(\.realServers.count) == [0, 0, 1])
        #expect(
            config.warnings.map(\.keyPath) == [
                "local_address_groups.spare", "virtual_servers[0].real_servers", "virtual_servers[1].real_servers",
                "virtual_servers[2].real_servers",
            ]
        )
        #expect(config.warnings[3].message.contains("weight 0"))
    }

    @Test func emptyServiceListIsValidWithAWarning() throws {
        let config = try parsed("interfaces: { external: eth0 }\nvirtual_servers: []\n")
        #expect(config.virtualServers.isEmpty)
        #expect(config.warnings.map(\.keyPath) == ["virtual_servers"])
        #expect(config.dataplaneConfiguration().services.isEmpty)
    }
}
