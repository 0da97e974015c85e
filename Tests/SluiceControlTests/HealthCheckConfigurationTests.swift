// `health_check`, `inhibit_on_failure`, `quorum` and `sorry_server` as read from the file: defaults,
// millisecond durations, a real server's override on top of its service's check, and path-exact errors.

import SluiceControl
import SluicePacket
import Testing

@Suite struct HealthCheckConfigurationTests {
    static func file(service: String, server: String = "") -> String {
        """
        interfaces: { external: eth0 }
        local_address_groups: { lips: [10.20.0.240] }
        virtual_servers:
          - name: web
            vip: 203.0.113.10
            port: 80
            protocol: tcp
            local_address_group: lips
        \(service.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
            real_servers:
              - { address: 10.30.0.11, port: 8080 }
              - address: 10.30.0.12
                port: 8080
        \(server.split(separator: "\n").map { "        " + $0 }.joined(separator: "\n"))
        """
    }

    @Test func defaultsAreStaticAndHAProxyTimings() throws {
        let c = try ConfigurationLoader.parse(yaml: Self.file(service: "scheduler: rr"))
        let vs = c.virtualServers[0]
        #expect(vs.healthCheck.kind == .none)
        #expect(vs.healthCheck.intervalMilliseconds == 2000 && vs.healthCheck.timeoutMilliseconds == 1000)
        #expect(vs.healthCheck.rise == 2 && vs.healthCheck.fall == 3)
        #expect(vs.quorum == 1 && !vs.inhibitOnFailure && vs.sorryServer == nil)
    }

    @Test func fullCheckWithOverride() throws {
        let c = try ConfigurationLoader.parse(
            yaml: Self.file(
                service: """
                    health_check:
                      type: http
                      interval: 1500ms
                      timeout: 500ms
                      rise: 1
                      fall: 2
                      http: { path: /healthz, expect_status: ["200-299", 301], host: example }
                    inhibit_on_failure: true
                    quorum: 2
                    sorry_server: { address: 10.30.0.99 }
                    """,
                server: "health_check: { type: tcp, port: 9000 }"))
        let vs = c.virtualServers[0]
        #expect(vs.healthCheck.kind == .http)
        #expect(vs.healthCheck.intervalMilliseconds == 1500 && vs.healthCheck.timeoutMilliseconds == 500)
        #expect(vs.healthCheck.http.path == "/healthz" && vs.healthCheck.http.host == "example")
        #expect(vs.healthCheck.http.expectStatus == [200...299, 301...301])
        #expect(vs.inhibitOnFailure && vs.quorum == 2)
        #expect(vs.sorryServer == VirtualServer.Endpoint(address: IPAddress("10.30.0.99")!, port: 80))
        let own = vs.healthCheck(for: vs.realServers[1])
        #expect(own.kind == .tcp && own.port == 9000 && own.intervalMilliseconds == 1500)
        #expect(vs.healthCheck(for: vs.realServers[0]).kind == .http)
    }

    @Test func aMappingWithoutTypeIsATCPCheck() throws {
        let c = try ConfigurationLoader.parse(yaml: Self.file(service: "health_check: { interval: 1s }"))
        #expect(c.virtualServers[0].healthCheck.kind == .tcp)
        #expect(c.virtualServers[0].healthCheck.intervalMilliseconds == 1000)
    }

    @Test func badValuesNameTheirKeyPath() {
        let cases: [(String, String)] = [
            ("health_check: { type: ping }", "virtual_servers[0].health_check.type"),
            ("health_check: { interval: 10ms }", "virtual_servers[0].health_check.interval"),
            ("health_check: { interval: 2x }", "virtual_servers[0].health_check.interval"),
            ("health_check: { interval: 1s, timeout: 2s }", "virtual_servers[0].health_check.timeout"),
            ("health_check: { rise: 0 }", "virtual_servers[0].health_check.rise"),
            ("health_check: { type: exec }", "virtual_servers[0].health_check.exec"),
            (
                "health_check: { type: exec, exec: { command: [check] } }",
                "virtual_servers[0].health_check.exec.command"
            ),
            (
                "health_check: { type: http, http: { expect_status: [\"700\"] } }",
                "virtual_servers[0].health_check.http.expect_status[0]"
            ),
            ("health_check: { type: http, http: { path: healthz } }", "virtual_servers[0].health_check.http.path"),
            ("quorum: -1", "virtual_servers[0].quorum"),
            ("inhibit_on_failure: maybe", "virtual_servers[0].inhibit_on_failure"),
            ("sorry_server: { port: 80 }", "virtual_servers[0].sorry_server.address"),
        ]
        for (yaml, path) in cases {
            let found = problems(Self.file(service: yaml))
            #expect(found.contains { $0.keyPath == path }, "\(yaml): \(found.map(\.keyPath))")
        }
    }

    @Test func millisecondDurations() {
        #expect(ConfigurationLoaderDurations.milliseconds("500ms") == 500)
        #expect(ConfigurationLoaderDurations.milliseconds("1m30s") == 90_000)
        #expect(ConfigurationLoaderDurations.milliseconds("1s500ms") == 1500)
        #expect(ConfigurationLoaderDurations.milliseconds("ms") == nil)
        #expect(ConfigurationLoaderDurations.milliseconds("5") == nil)
        #expect(ConfigurationLoaderDurations.seconds("2m") == 120)
        #expect(ConfigurationLoaderDurations.seconds("1500ms") == nil)
        #expect(ConfigurationLoaderDurations.seconds("2000ms") == 2)
    }
}

@Suite struct HealthCheckCrossCheckTests {
    @Test func sorryServerAndSourceAreChecked() {
        let found = problems(
            HealthCheckConfigurationTests.file(
                service: """
                    health_check: { type: tcp, source: 10.20.0.240 }
                    sorry_server: { address: "fd00::99", port: 80 }
                    """))
        #expect(found.contains { $0.keyPath == "virtual_servers[0].health_check.source" })
        #expect(found.contains { $0.keyPath == "virtual_servers[0].sorry_server.address" })
    }
}
