// The start-up log names every interface, group, service and real server.

import SluiceControl
import Testing

@Suite struct StartupSummaryTests {
    @Test func summaryOfTheShippedConfiguration() throws {
        let config = try ConfigurationLoader.load(path: Fixtures.shippedConfigPath)
        let lines = StartupSummary.describe(config)
        #expect(lines.first == "interfaces external ext0, internal int0, xdp mode auto")
        #expect(lines.contains("local address group lips: 10.20.0.240, 10.20.0.241"))
        #expect(lines.contains("local address group lips6: fd00:20::240, fd00:20::241"))
        #expect(
            lines.contains(
                "virtual server web: tcp 203.0.113.10:80, scheduler wrr, 3 real servers (3 with weight > 0, "
                    + "total weight 250), local addresses lips (2), syn_proxy auto, client_address none, "
                    + "establish_timeout 900s"
            )
        )
        #expect(lines.contains { $0.hasPrefix("virtual server web6: tcp [fd00:203::10]:80, scheduler wrr") })
        #expect(lines.contains { $0.hasPrefix("virtual server echo: udp 203.0.113.10:9000, scheduler rr") })
        #expect(lines.contains("  real server [fd00:30::13]:8080 weight 50"))
        #expect(lines.contains("  real server 10.30.0.12:9000 weight 1"))
        #expect(
            lines.contains(
                "virtual server web-pp: tcp 203.0.113.10:8088, scheduler rr, 3 real servers (3 with weight > 0, "
                    + "total weight 3), local addresses lips (2), syn_proxy auto, client_address proxy_protocol_v2"
            )
        )
        #expect(lines.filter { $0.hasPrefix("  real server") }.count == 15)
        #expect(lines.contains { $0.hasPrefix("data plane: 1 worker, one per RX queue, local ports 1025-65535") })
    }

    @Test func singleInterfaceAndWarnings() throws {
        let config = try parsed(
            """
            interfaces: { external: eth0, xdp_mode: skb }
            local_address_groups: { lips: [10.20.0.240] }
            virtual_servers:
              - { name: drained, vip: 203.0.113.10, port: 80, protocol: tcp, local_address_group: lips }
            """
        )
        let lines = StartupSummary.describe(config)
        #expect(lines.first == "interface eth0 (external and internal), xdp mode skb")
        #expect(lines.last?.hasPrefix("warning: virtual_servers[0].real_servers: no real servers") == true)
    }
}
