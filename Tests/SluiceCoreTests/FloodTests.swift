// Floods cannot take the gateway's ports or its table (a manual clock, 100 000 packets per second):
// - 10^6 spoofed UDP datagrams to a UDP service whose LIPs a TCP service and another UDP service share:
//   the flooded service's flows hold at most its budget (a quarter of the table), all UDP flows at most
//   half the table, unanswered ones expire after `udp_oneway` (30 s), so an answered flow keeps working
//   during the flood, a TCP connection and a flow of the other service still open during it, and a new
//   UDP flow works after it; one source flooding from many ports stops at its own budget;
// - 10^6 spoofed SYNs to a service with `syn_proxy: auto`: past `synproxy.auto_half_open` half-open
//   connections its SYNs get cookies, so legitimate clients keep connecting and ports in use stay near
//   the threshold; after the flood plain FULLNAT serves again.

import SluiceCore
import SluicePacket
import SluiceTestKit
import Testing

@Suite struct FloodTests {
    let network = Topology.network()

    func datagram(from source: IPAddress, port: UInt16, payload: [UInt8] = [1, 2, 3, 4]) -> [UInt8] {
        PacketBuilder().ethernet(src: Topology.clientMAC, dst: Topology.extMAC).ipv4(src: source, dst: Topology.vip)
            .udp(sport: port, dport: 53, payload: payload).build()
    }

    func reply(to out: Processed) -> [UInt8] {
        PacketBuilder().ethernet(src: Topology.routerMAC, dst: Topology.intMAC)
            .ipv4(src: out.info.destination, dst: out.info.source)
            .udp(sport: out.info.destinationPort, dport: out.info.sourcePort, payload: [9]).build()
    }

    @Test func aSpoofedUDPFloodLeavesRoomForAnsweredFlowsOtherServicesAndTCP() {
        // Room for 65 536 connections: a virtual server's UDP flows may hold a quarter (16 384). A second
        // UDP service on the same LIPs stands for "the other services".
        var c = Topology.configuration(portRange: 1025...11024)
        c.connectionCapacity = 65_536
        c.services.append(
            VirtualServiceConfiguration(
                name: "dns2", vip: Topology.vip, port: 54, transport: .udp, scheduler: .rr,
                localAddresses: Topology.lips,
                realServers: [RealServerConfiguration(address: Topology.rs2, port: 5353, weight: 1)]))
        var dp = Topology.dataplane(c)
        var now: UInt64 = 1_000
        // A legitimate flow, answered before the flood.
        let legit = dp.run(datagram(from: Topology.client, port: 5353), from: .external, now: now, network: network)
        #expect(legit.verdict == .transmit(.internal))
        #expect(dp.run(reply(to: legit), from: .internal, now: now, network: network).verdict == .transmit(.external))

        let floodSize = 1_000_000
        let perMillisecond = 100  // 100 000 datagrams per second
        var generator = SystemRandomNumberGenerator()
        var legitAnswered = 0
        var tcpOpened = 0
        var otherServiceOpened = 0
        var mostConnections = 0
        for i in 0..<floodSize {
            if i % perMillisecond == 0 {
                now += 1
                if i % (perMillisecond * 100) == 0 { dp.advance(now: now) }
            }
            let spoofed = IPAddress(v4: UInt32.random(in: 0x0B00_0000...0xDFFF_FFFF, using: &generator))
            _ = dp.run(
                datagram(from: spoofed, port: UInt16.random(in: 1024...65535, using: &generator)),
                from: .external, now: now, network: network)
            if i % 50_000 == 25_000 {
                // The answered flow, both ways; a new TCP connection and a new flow of the other UDP
                // service on the same LIPs.
                let q = dp.run(datagram(from: Topology.client, port: 5353), from: .external, now: now, network: network)
                if q.verdict == .transmit(.internal),
                    dp.run(reply(to: q), from: .internal, now: now, network: network).verdict == .transmit(.external)
                {
                    legitAnswered += 1
                }
                let syn = PacketBuilder().ethernet(src: Topology.clientMAC, dst: Topology.extMAC)
                    .ipv4(src: Topology.client, dst: Topology.vip)
                    .tcp(sport: UInt16(20_000 + i / 50_000), dport: 80, seq: 1, flags: TCPFlag.syn).build()
                if dp.run(syn, from: .external, now: now, network: network).verdict == .transmit(.internal) {
                    tcpOpened += 1
                }
                let other = PacketBuilder().ethernet(src: Topology.clientMAC, dst: Topology.extMAC)
                    .ipv4(src: Topology.client, dst: Topology.vip)
                    .udp(sport: UInt16(30_000 + i / 50_000), dport: 54, payload: [1]).build()
                if dp.run(other, from: .external, now: now, network: network).verdict == .transmit(.internal) {
                    otherServiceOpened += 1
                }
                mostConnections = max(mostConnections, dp.connectionCount)
            }
        }
        #expect(legitAnswered == 20, "the answered flow worked all through the flood")
        #expect(tcpOpened == 20, "TCP connections opened during the flood")
        #expect(otherServiceOpened == 20, "the other UDP service opened flows during the flood")
        #expect(mostConnections <= 65_536 / 4 + 100, "the flooded service held at most its quarter of the table")
        #expect(dp.counters[.udpFlowLimit] > 0)
        #expect(dp.counters[.localPortsExhausted] == 0, "ports are per server: the flood took none of TCP's")
        // After the flood: its flows expire after udp_oneway (30 s); a new flow works.
        now += 31_000
        dp.advance(now: now)
        let fresh = dp.run(datagram(from: Topology.client, port: 6000), from: .external, now: now, network: network)
        #expect(fresh.verdict == .transmit(.internal))
        #expect(dp.localPortUsage.inUse < 100)
    }

    @Test func aSpoofedUDPFloodLeavesHalfTheTable() {
        var c = Topology.configuration()  // 4096 connections
        c.udpFlowLimit = 4096  // no lower limit for the service: the table's share is what stops it
        var dp = Topology.dataplane(c)
        for i in 0..<20_000 {
            _ = dp.run(
                datagram(from: IPAddress(v4: 0x0B00_0000 + UInt32(i)), port: 4000), from: .external, now: 1_000,
                network: network)
        }
        #expect(dp.connectionCount == 4096 / 2)
        let syn = PacketBuilder().ethernet(src: Topology.clientMAC, dst: Topology.extMAC)
            .ipv4(src: Topology.client, dst: Topology.vip).tcp(sport: 20_000, dport: 80, seq: 1, flags: TCPFlag.syn)
            .build()
        #expect(dp.run(syn, from: .external, now: 1_000, network: network).verdict == .transmit(.internal))
    }

    @Test func oneSourceCannotFillItsServicesBudget() {
        var c = Topology.configuration()
        c.connectionCapacity = 1 << 16
        c.udpSourceFlowLimit = 100
        var dp = Topology.dataplane(c)
        let flooder = IPAddress(v4: 0x0B00_0001)
        var forwarded = 0
        for port in UInt16(1024)..<UInt16(6024) {
            if dp.run(datagram(from: flooder, port: port), from: .external, now: 1_000, network: network).verdict
                == .transmit(.internal)
            {
                forwarded += 1
            }
        }
        #expect(forwarded == 100, "the source's budget, and not one flow more")
        #expect(dp.counters[.udpSourceFlowLimit] == 4_900)
        #expect(dp.counters[.udpFlowLimit] == 0)
        // Another client opens flows as usual.
        for port in UInt16(1024)..<UInt16(1034) {
            #expect(
                dp.run(datagram(from: Topology.client, port: port), from: .external, now: 1_000, network: network)
                    .verdict == .transmit(.internal))
        }
        // Flows that end give the source its budget back.
        dp.advance(now: 1_000 + 31_000)
        #expect(
            dp.run(datagram(from: flooder, port: 9999), from: .external, now: 32_000, network: network).verdict
                == .transmit(.internal))
        // A reload keeps the counts: the source is back at one flow, not at zero or at 101.
        dp.apply(configuration: c)
        var again = 0
        for port in UInt16(10_000)..<UInt16(10_200) {
            if dp.run(datagram(from: flooder, port: port), from: .external, now: 32_000, network: network).verdict
                == .transmit(.internal)
            {
                again += 1
            }
        }
        #expect(again == 99)
    }

    /// A client's connection attempt: true when its SYN was forwarded to a real server, or answered
    /// with a cookie whose ACK then opened the connection (a SYN to the real server was generated).
    func legitimateOpens(_ dp: inout Dataplane, port: UInt16, now: UInt64) -> Bool {
        let syn = PacketBuilder().ethernet(src: Topology.clientMAC, dst: Topology.extMAC)
            .ipv4(src: Topology.client, dst: Topology.vip)
            .tcp(sport: port, dport: 80, seq: 1_000, flags: TCPFlag.syn, options: [.mss(1460)]).build()
        let first = dp.run(syn, from: .external, now: now, network: network)
        if first.verdict == .transmit(.internal) { return true }
        guard first.verdict == .transmit(.external) else { return false }
        let cookie = first.frame.u32(first.info.l4Offset + 4)
        let ack = PacketBuilder().ethernet(src: Topology.clientMAC, dst: Topology.extMAC)
            .ipv4(src: Topology.client, dst: Topology.vip)
            .tcp(sport: port, dport: 80, seq: 1_001, ack: cookie &+ 1, flags: TCPFlag.ack).build()
        let before = dp.counters[.synProxyServerSyns]
        _ = dp.run(ack, from: .external, now: now, network: network)
        dp.clearPendingOutput()
        return dp.counters[.synProxyServerSyns] == before + 1
    }

    @Test func aSpoofedSYNFloodMeetsCookiesUnderSynProxyAuto() {
        var c = Topology.configuration()
        c.services[0].synProxyAuto = true
        c.connectionCapacity = 1 << 16
        var dp = Topology.dataplane(c)
        var now: UInt64 = 1_000
        var generator = SystemRandomNumberGenerator()
        var opened = 0
        var attempts = 0
        var mostPortsInUse = 0
        for i in 0..<1_000_000 {
            if i % 100 == 0 {
                now += 1  // 100 000 SYNs per second
                if i % 10_000 == 0 { dp.advance(now: now) }
            }
            let spoofed = IPAddress(v4: UInt32.random(in: 0x0B00_0000...0xDFFF_FFFF, using: &generator))
            let syn = PacketBuilder().ethernet(src: Topology.clientMAC, dst: Topology.extMAC)
                .ipv4(src: spoofed, dst: Topology.vip)
                .tcp(sport: UInt16.random(in: 1024...65535, using: &generator), dport: 80, seq: 7, flags: TCPFlag.syn)
                .build()
            _ = dp.run(syn, from: .external, now: now, network: network)
            dp.clearPendingOutput()
            if i % 20_000 == 10_000 {
                attempts += 1
                if legitimateOpens(&dp, port: UInt16(30_000 + attempts), now: now) { opened += 1 }
                mostPortsInUse = max(mostPortsInUse, dp.localPortUsage.inUse)
            }
        }
        let limit = SynProxyConfiguration.defaultAutoHalfOpen
        #expect(opened == attempts, "every legitimate connection opened during the flood")
        #expect(mostPortsInUse <= limit + 64, "half-open entries stayed near synproxy.auto_half_open")
        #expect(dp.counters[.synProxyAutoEngaged] >= 1 && dp.counters[.synProxyAutoCookies] > 900_000)
        // After the flood the half-open entries expire, cookies stop, and SYNs are forwarded again.
        now += 60_000
        dp.advance(now: now)
        #expect(legitimateOpens(&dp, port: 40_000, now: now))
        let syn = PacketBuilder().ethernet(src: Topology.clientMAC, dst: Topology.extMAC)
            .ipv4(src: Topology.client, dst: Topology.vip).tcp(sport: 40_001, dport: 80, seq: 1, flags: TCPFlag.syn)
            .build()
        #expect(dp.run(syn, from: .external, now: now, network: network).verdict == .transmit(.internal))
        #expect(dp.counters[.synProxyAutoDisengaged] >= 1)
    }
}
