// Multipath routes (RouteHop.swift, NetworkView.nextHop(to:flowHash:)): each flow hash keeps to one
// next hop, flows spread by weight, hops through unknown interfaces are left out, and the data plane
// sends two connections to one real server through different routers while each connection's frames
// keep to one (the hash is derived from its table slot) and are never served a cached single path.

import SluiceCore
import SluicePacket
import SluiceTestKit
import Testing

@Suite struct MultipathTests {
    static let eth = InterfaceInfo(index: 2, mac: MACAddress(0x02_00_00_00_00_02), mtu: 1500)
    static let routerA = IPAddress(v4: 0x0A3C_0002)  // 10.60.0.2
    static let routerB = IPAddress(v4: 0x0A3C_0003)  // 10.60.0.3
    static let servers = IPAddress(v4: 0x0A1E_0000)  // 10.30.0.0/24

    func view(weights: (Int, Int), secondInterface: Int32 = 2) -> NetworkView {
        NetworkView(
            interfaces: [Self.eth],
            routes: [
                Route(
                    prefix: Self.servers, prefixLength: 24, interfaceIndex: 2, gateway: Self.routerA,
                    hops: [
                        RouteHop(interfaceIndex: 2, gateway: Self.routerA, weight: weights.0),
                        RouteHop(interfaceIndex: secondInterface, gateway: Self.routerB, weight: weights.1),
                    ])
            ], neighbours: [], generation: 1)
    }

    @Test func flowsSpreadByWeightAndEachKeepsItsHop() {
        for weights in [(1, 1), (1, 3)] {
            let network = view(weights: weights)
            var throughB = 0
            for hash in UInt32(0)..<4000 {
                let hop = network.nextHop(to: IPAddress(v4: 0x0A1E_0005), flowHash: hash &* 2_654_435_761)
                #expect(hop?.isMultipath == true)
                if hop?.address == Self.routerB { throughB += 1 }
                #expect(
                    network.nextHop(to: IPAddress(v4: 0x0A1E_0005), flowHash: hash &* 2_654_435_761)?.address
                        == hop?.address)
            }
            let share = Double(throughB) / 4000
            let expected = Double(weights.1) / Double(weights.0 + weights.1)
            #expect(abs(share - expected) < 0.05, "weights \(weights): \(share) through B")
        }
    }

    @Test func aHopThroughAnUnknownInterfaceIsLeftOut() {
        let network = view(weights: (1, 1), secondInterface: 9)
        for hash in UInt32(0)..<100 {
            #expect(network.nextHop(to: Self.servers, flowHash: hash)?.address == Self.routerA)
        }
    }

    @Test func connectionsToOneServerLeaveThroughBothRoutersEachThroughOne() {
        // Topology's internal side, with the real servers' prefix behind two routers.
        let base = Topology.network()
        let network = NetworkView(
            interfaces: base.interfaces,
            routes: base.routes + [
                Route(
                    prefix: Topology.rs1, prefixLength: 32, interfaceIndex: 2, gateway: Self.routerA,
                    hops: [
                        RouteHop(interfaceIndex: 2, gateway: Self.routerA),
                        RouteHop(interfaceIndex: 2, gateway: Self.routerB),
                    ])
            ],
            neighbours: base.neighbours + [
                NeighbourEntry(
                    interfaceIndex: 2, address: Self.routerA, mac: MACAddress(0x02_00_00_00_0A_0A),
                    state: NeighbourEntry.State.reachable),
                NeighbourEntry(
                    interfaceIndex: 2, address: Self.routerB, mac: MACAddress(0x02_00_00_00_0B_0B),
                    state: NeighbourEntry.State.reachable),
            ], generation: 7)
        // One real server: every connection goes to rs1.
        let configuration = Topology.configuration(weights: [1])
        var dp = Topology.dataplane(configuration)
        var routers: [UInt64: Int] = [:]
        for port in UInt16(20_000)..<20_200 {
            let syn = PacketBuilder().ethernet(src: Topology.clientMAC, dst: Topology.extMAC)
                .ipv4(src: Topology.client, dst: Topology.vip).tcp(sport: port, dport: 80, seq: 1, flags: TCPFlag.syn)
                .build()
            let out = dp.run(syn, from: .external, now: 1, network: network)
            #expect(out.verdict == .transmit(.internal) && out.info.destination == Topology.rs1)
            routers[out.frame.mac(0), default: 0] += 1
            // The connection's next frame leaves through the same router.
            let ack = PacketBuilder().ethernet(src: Topology.clientMAC, dst: Topology.extMAC)
                .ipv4(src: Topology.client, dst: Topology.vip).tcp(sport: port, dport: 80, seq: 2, flags: TCPFlag.ack)
                .build()
            #expect(dp.run(ack, from: .external, now: 2, network: network).frame.mac(0) == out.frame.mac(0))
        }
        #expect(Set(routers.keys) == [0x02_00_00_00_0A_0A, 0x02_00_00_00_0B_0B])
        #expect(routers.values.allSatisfy { $0 > 60 })
    }
}
