// Frames are accepted only from the side they belong to on a two-interface gateway: a forged "server"
// SYN-ACK arriving from outside, a client RST arriving from the server side, a new flow to a VIP from
// the server side and ICMP errors about either leg on the other side are dropped and counted as
// `wrong_side`, changing nothing; on one interface (one-arm) the same frames are forwarded.

import SluiceCore
import SluicePacket
import SluiceTestKit
import Testing

@Suite struct WrongSideTests {
    let network = Topology.network()

    func clientSegment(_ flags: UInt8, seq: UInt32 = 1_000_000, ack: UInt32 = 0) -> [UInt8] {
        PacketBuilder().ethernet(src: Topology.clientMAC, dst: Topology.extMAC)
            .ipv4(src: Topology.client, dst: Topology.vip)
            .tcp(sport: 40000, dport: 80, seq: seq, ack: ack, flags: flags).build()
    }

    func serverSegment(to syn: Processed, _ flags: UInt8) -> [UInt8] {
        PacketBuilder().ethernet(src: Topology.routerMAC, dst: Topology.intMAC)
            .ipv4(src: syn.info.destination, dst: syn.info.source)
            .tcp(
                sport: 8080, dport: syn.info.sourcePort, seq: 777_000,
                ack: syn.frame.u32(syn.info.l4Offset + 4) &+ 1, flags: flags
            ).build()
    }

    func udpQuery() -> [UInt8] {
        PacketBuilder().ethernet(src: Topology.clientMAC, dst: Topology.extMAC)
            .ipv4(src: Topology.client, dst: Topology.vip).udp(sport: 5000, dport: 53, payload: [1, 2, 3]).build()
    }

    @Test func eachLegOnlyFromItsOwnSide() {
        var dp = Topology.dataplane()
        // A new flow to a VIP from the server side creates nothing.
        #expect(
            dp.run(clientSegment(TCPFlag.syn), from: .internal, now: 1, network: network).verdict == .drop(.wrongSide))
        #expect(dp.run(udpQuery(), from: .internal, now: 1, network: network).verdict == .drop(.wrongSide))
        #expect(dp.connectionCount == 0)
        let syn = dp.run(clientSegment(TCPFlag.syn), from: .external, now: 1, network: network)
        #expect(syn.verdict == .transmit(.internal))
        // The real server's SYN-ACK, forged from outside: dropped; the real one passes.
        let synAck = serverSegment(to: syn, TCPFlag.syn | TCPFlag.ack)
        #expect(dp.run(synAck, from: .external, now: 2, network: network).verdict == .drop(.wrongSide))
        #expect(dp.run(synAck, from: .internal, now: 2, network: network).verdict == .transmit(.external))
        // A client RST arriving from the server side: dropped, the connection lives on.
        let rst = clientSegment(TCPFlag.rst | TCPFlag.ack, seq: 1_000_001, ack: 777_001)
        #expect(dp.run(rst, from: .internal, now: 3, network: network).verdict == .drop(.wrongSide))
        #expect(dp.connectionCount == 1)
        // ICMP errors: about the segment sent to the real server, from outside; about the client leg,
        // from inside.
        let quotedToServer = Array(syn.frame[14...])
        let errorOutside = PacketBuilder().ethernet(src: Topology.clientMAC, dst: Topology.extMAC)
            .ipv4(src: Topology.client, dst: syn.info.source)
            .icmp(type: 3, code: 4, rest: 1280, payload: quotedToServer).build()
        #expect(dp.run(errorOutside, from: .external, now: 4, network: network).verdict == .drop(.wrongSide))
        let errorInside = PacketBuilder().ethernet(src: Topology.routerMAC, dst: Topology.intMAC)
            .ipv4(src: Topology.router, dst: Topology.vip)
            .icmp(
                type: 3, code: 4, rest: 1200,
                payload: PacketBuilder().ipv4(src: Topology.vip, dst: Topology.client)
                    .tcp(sport: 80, dport: 40000, seq: 5, ack: 1_000_001).buildIP()
            ).build()
        #expect(dp.run(errorInside, from: .internal, now: 4, network: network).verdict == .drop(.wrongSide))
        #expect(dp.counters[.wrongSide] == 6)
        #expect(dp.counters[.icmpTranslated] == 0)
    }

    @Test func oneArmForwardsBothLegs() {
        // Everything on interface 1: clients, the router towards the real servers.
        let ip = Topology.ip
        let oneArm = NetworkView(
            interfaces: [InterfaceInfo(index: 1, mac: Topology.extMAC, mtu: 1500)],
            routes: [
                Route(prefix: ip("198.51.100.0"), prefixLength: 24, interfaceIndex: 1, gateway: nil),
                Route(prefix: ip("10.20.0.0"), prefixLength: 24, interfaceIndex: 1, gateway: nil),
                Route(prefix: ip("10.30.0.0"), prefixLength: 24, interfaceIndex: 1, gateway: Topology.router),
            ],
            neighbours: [
                NeighbourEntry(
                    interfaceIndex: 1, address: Topology.client, mac: Topology.clientMAC,
                    state: NeighbourEntry.State.reachable),
                NeighbourEntry(
                    interfaceIndex: 1, address: Topology.router, mac: Topology.routerMAC,
                    state: NeighbourEntry.State.reachable),
            ], generation: 1)
        var dp = Dataplane(
            configuration: Topology.configuration(), worker: 0, workerCount: 1, externalInterface: 1,
            internalInterface: 1, secret: (1, 2))
        let syn = dp.run(clientSegment(TCPFlag.syn), from: .external, now: 1, network: oneArm)
        guard case .transmit = syn.verdict else {
            Issue.record("the SYN was not forwarded")
            return
        }
        let back = dp.run(serverSegment(to: syn, TCPFlag.syn | TCPFlag.ack), from: .external, now: 2, network: oneArm)
        guard case .transmit = back.verdict else {
            Issue.record("the SYN-ACK was not forwarded")
            return
        }
        #expect(back.info.destination == Topology.client)
        #expect(dp.counters[.wrongSide] == 0)
    }
}
