// A spoofed UDP flood cannot take the gateway's ports or its table: 10^6 datagrams from random sources
// at 100 000 per second (a manual clock) to a UDP service whose LIPs a TCP service shares. Unanswered
// flows hold at most half the ports and half the table and expire after `udp_oneway` (30 s), so an
// answered flow keeps working during the flood, a TCP connection still opens during it, and a new UDP
// flow works after it. With a small table the same holds for the table.

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

    @Test func aSpoofedUDPFloodLeavesPortsForAnsweredFlowsAndTCP() {
        // 20 000 ports on two LIPs and room for 65 536 connections: ports are what a flood would take.
        var c = Topology.configuration(portRange: 1025...11024)
        c.connectionCapacity = 65_536
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
        var mostPortsInUse = 0
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
                // The answered flow, both ways, and a new TCP connection on the same LIPs.
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
                mostPortsInUse = max(mostPortsInUse, dp.localPortUsage.inUse)
            }
        }
        let capacity = 2 * (11024 - 1025 + 1)
        #expect(legitAnswered == 20, "the answered flow worked all through the flood")
        #expect(tcpOpened == 20, "TCP connections opened during the flood")
        #expect(mostPortsInUse <= capacity / 2 + 100, "unanswered flows held at most half the ports")
        #expect(dp.counters[.unrepliedFlowLimit] > 0)
        // After the flood: its flows expire after udp_oneway (30 s); a new flow works.
        now += 31_000
        dp.advance(now: now)
        let fresh = dp.run(datagram(from: Topology.client, port: 6000), from: .external, now: now, network: network)
        #expect(fresh.verdict == .transmit(.internal))
        #expect(dp.localPortUsage.inUse < 100)
    }

    @Test func aSpoofedUDPFloodLeavesHalfTheTable() {
        var dp = Topology.dataplane()  // 4096 connections, 129 022 ports
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
}
