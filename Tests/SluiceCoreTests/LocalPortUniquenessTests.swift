// Local ports are unique per reply tuple (LIP, protocol, real server address and port), not per LIP
// (docs/protocol.md §4): with two ports on one LIP, each of two servers gets both, UDP gets them again,
// replies sharing a LIP port find their own connection, and explain names the port a flow would get.

import SluiceCore
import SluicePacket
import SluiceTestKit
import Testing

@Suite struct LocalPortUniquenessTests {
    let network = Topology.network()

    func syn(_ port: UInt16) -> [UInt8] {
        PacketBuilder().ethernet(src: Topology.clientMAC, dst: Topology.extMAC)
            .ipv4(src: Topology.client, dst: Topology.vip).tcp(sport: port, dport: 80, seq: 1, flags: TCPFlag.syn)
            .build()
    }

    func synACK(to out: Processed) -> [UInt8] {
        PacketBuilder().ethernet(src: Topology.routerMAC, dst: Topology.intMAC)
            .ipv4(src: out.info.destination, dst: out.info.source)
            .tcp(
                sport: out.info.destinationPort, dport: out.info.sourcePort, seq: 5_000,
                ack: out.frame.u32(
                    out.info.l4Offset + 4) &+ 1, flags: TCPFlag.syn | TCPFlag.ack
            ).build()
    }

    @Test func eachServerGetsEveryPortOfTheLIP() {
        // One LIP, ports 2000 and 2001, two real servers in round robin.
        var dp = Topology.dataplane(
            Topology.configuration(weights: [1, 1], scheduler: .rr, portRange: 2000...2001, lips: [Topology.lips[0]]))
        var tuples: [String] = []
        var opened: [Processed] = []
        for client in UInt16(40_000)..<UInt16(40_004) {
            let out = dp.run(syn(client), from: .external, now: 1_000, network: network)
            #expect(out.verdict == .transmit(.internal))
            #expect(out.info.source == Topology.lips[0])
            tuples.append("\(out.info.destination):\(out.info.sourcePort)")
            opened.append(out)
        }
        #expect(
            tuples.sorted()
                == ["10.30.0.11:2000", "10.30.0.11:2001", "10.30.0.12:2000", "10.30.0.12:2001"],
            "both ports towards each server")
        #expect(
            dp.run(syn(40_004), from: .external, now: 1_000, network: network).verdict == .drop(.localPortsExhausted))
        #expect(dp.localPortUsage.exhausted == 1)

        // The replies of the two connections on port 2000 each reach their own client port.
        for (i, out) in opened.enumerated() {
            let back = dp.run(synACK(to: out), from: .internal, now: 1_000, network: network)
            #expect(back.verdict == .transmit(.external))
            #expect(back.info.destination == Topology.client)
            #expect(back.info.destinationPort == UInt16(40_000 + i))
        }

        // UDP to the first server uses the same two LIP ports again: another protocol, another tuple.
        let dns = PacketBuilder().ethernet(src: Topology.clientMAC, dst: Topology.extMAC)
            .ipv4(src: Topology.client, dst: Topology.vip)
        var udpPorts: [UInt16] = []
        for client in UInt16(50_000)..<UInt16(50_002) {
            let out = dp.run(
                dns.udp(sport: client, dport: 53, payload: [1]).build(), from: .external, now: 1_000, network: network)
            #expect(out.verdict == .transmit(.internal))
            udpPorts.append(out.info.sourcePort)
        }
        #expect(udpPorts.sorted() == [2000, 2001])
    }

    @Test func explainNamesThePortWithoutTakingIt() {
        var dp = Topology.dataplane(
            Topology.configuration(weights: [1], portRange: 2000...2001, lips: [Topology.lips[0]]))
        let before = dp.explain(
            transport: .tcp, client: Topology.client, clientPort: 40_000, vip: Topology.vip, vport: 80, now: 1_000)
        let out = dp.run(syn(40_000), from: .external, now: 1_000, network: network)
        #expect(before.local?.port == out.info.sourcePort)
        _ = dp.run(syn(40_001), from: .external, now: 1_000, network: network)
        let full = dp.explain(
            transport: .tcp, client: Topology.client, clientPort: 40_002, vip: Topology.vip, vport: 80, now: 1_000)
        #expect(full.failure == .localPortsExhausted)
        #expect(dp.localPortUsage.exhausted == 0, "explain counts nothing")
    }
}
