// The data plane hands the hashing schedulers the packet's client address and port and its VIP:
// with sh every SYN of one client reaches the same real server whatever its port, with mh_port the
// ports spread, and `explain` (a copy of the scheduler) predicts the same choice.

import SluiceCore
import SluicePacket
import SluiceTestKit
import Testing

@Suite struct DataplaneSchedulingTests {
    let network = Topology.network()

    func syn(_ port: UInt16, client: IPAddress) -> [UInt8] {
        PacketBuilder().ethernet(src: Topology.clientMAC, dst: Topology.extMAC)
            .ipv4(src: client, dst: Topology.vip).tcp(sport: port, dport: 80, seq: 1, flags: TCPFlag.syn).build()
    }

    func configuration(_ kind: SchedulerKind, mhPort: Bool = false) -> DataplaneConfiguration {
        var c = Topology.configuration(weights: [1, 1, 1], scheduler: kind)
        c.services[0].mhPort = mhPort
        c.schedulerSeed = 99
        return c
    }

    /// The real server each SYN from `client` on `ports` was sent to.
    func servers(_ dp: inout Dataplane, client: IPAddress, ports: Range<UInt16>) -> [IPAddress] {
        ports.map { port in
            let out = dp.run(syn(port, client: client), from: .external, now: 1_000, network: network)
            #expect(out.verdict == .transmit(.internal))
            return out.info.destination
        }
    }

    @Test func sourceHashKeepsAClientOnOneServer() {
        var dp = Topology.dataplane(configuration(.sh))
        var seen = Set<IPAddress>()
        for last in UInt32(2)..<UInt32(40) {
            let client = IPAddress(v4: 0xC633_6400 | last)  // 198.51.100.x
            let explained = dp.explain(
                transport: .tcp, client: client, clientPort: 7, vip: Topology.vip, vport: 80, now: 1_000)
            let picked = servers(&dp, client: client, ports: 1000..<1010)
            #expect(Set(picked).count == 1)
            #expect(explained.server?.0 == picked[0])
            seen.insert(picked[0])
        }
        #expect(seen.count == 3, "different clients spread over the servers")
    }

    @Test func maglevWithPortSpreadsOneClientsConnections() {
        var plain = Topology.dataplane(configuration(.mh))
        #expect(Set(servers(&plain, client: Topology.client, ports: 1000..<1060)).count == 1)
        var withPort = Topology.dataplane(configuration(.mh, mhPort: true))
        #expect(Set(servers(&withPort, client: Topology.client, ports: 1000..<1060)).count == 3)
    }
}
