// The worker-side questions of the admin API: a table walk in slices counts every match and copies
// only the page it was asked for, whatever the slice size; explain changes nothing.

import SluiceCore
import SluicePacket
import SluiceTestKit
import Testing

@Suite struct InspectionTests {
    let network = Topology.network()

    func open(_ dp: inout Dataplane, ports: Range<UInt16>) {
        for port in ports {
            let syn = PacketBuilder().ethernet(src: Topology.clientMAC, dst: Topology.extMAC)
                .ipv4(src: Topology.client, dst: Topology.vip).tcp(sport: port, dport: 80, seq: 1, flags: TCPFlag.syn)
                .build()
            _ = dp.run(syn, from: .external, now: 1000, network: network)
        }
    }

    @Test func slicedWalkCountsAllAndCopiesThePage() {
        var dp = Topology.dataplane(Topology.configuration(weights: [1, 1], scheduler: .rr))
        open(&dp, ports: 40000..<40010)
        for budget in [1, 3, 4096] {
            var scan = ConnectionScan(skip: 2, limit: 3)
            var visits = 0
            while !dp.continueScan(&scan, budget: budget, now: 1000, matching: { _, _ in true }) { visits += 1 }
            #expect(scan.matched == 10)
            #expect(scan.found.count == 3)
            #expect(scan.found.allSatisfy { $0.service == "web" && $0.expiresIn > 0 })
            if budget == 1 { #expect(visits >= 10) }
        }
        let toRS1 = dp.listConnections(now: 1000, limit: 100) { c, _ in c.real == Topology.rs1 }
        #expect(toRS1.total == 5 && toRS1.connections.count == 5)
        let none = dp.listConnections(now: 1000, limit: 100) { _, service in service == "dns" }
        #expect(none.total == 0)
    }

    @Test func explainNamesTheNextChoiceWithoutTakingIt() {
        var dp = Topology.dataplane(Topology.configuration(weights: [1, 1], scheduler: .rr))
        let first = dp.explain(
            transport: .tcp, client: Topology.client, clientPort: 50000, vip: Topology.vip, vport: 80, now: 1000)
        let again = dp.explain(
            transport: .tcp, client: Topology.client, clientPort: 50000, vip: Topology.vip, vport: 80, now: 1000)
        #expect(first.server?.address == again.server?.address && first.existing == nil)
        open(&dp, ports: 50000..<50001)
        let count = dp.connectionCount
        #expect(count == 1)
        let existing = dp.explain(
            transport: .tcp, client: Topology.client, clientPort: 50000, vip: Topology.vip, vport: 80, now: 1000)
        #expect(existing.existing?.connection.real == first.server?.address)
        let missing = dp.explain(
            transport: .tcp, client: Topology.client, clientPort: 1, vip: Topology.vip, vport: 81, now: 1000)
        #expect(missing.failure == .noService)
    }
}
