// A real server taken down by the control plane (isUp false): no new connections go to it, its
// established clients get a RST at once with the sequence number they expect, late segments from
// either side are answered with a RST, UDP flows are released, and servers that stay up are untouched.

import SluiceCore
import SluicePacket
import SluiceTestKit
import Testing

@Suite struct NoDestinationTests {
    let network = Topology.network()

    /// Opens an established connection to `port`, returning the RS-side tuple and the client's last ack.
    func establish(_ dp: inout Dataplane, port: UInt16, now: UInt64) -> (rs: IPAddress, lip: IPAddress, lport: UInt16) {
        let syn = PacketBuilder().ethernet(src: Topology.clientMAC, dst: Topology.extMAC)
            .ipv4(src: Topology.client, dst: Topology.vip).tcp(sport: port, dport: 80, seq: 5000, flags: TCPFlag.syn)
            .build()
        let out = dp.run(syn, from: .external, now: now, network: network)
        let rsISN = out.frame.u32(out.info.l4Offset + 4)
        let synAck = PacketBuilder().ethernet(src: Topology.routerMAC, dst: Topology.intMAC)
            .ipv4(src: out.info.destination, dst: out.info.source)
            .tcp(sport: 8080, dport: out.info.sourcePort, seq: 9000, ack: rsISN &+ 1, flags: TCPFlag.syn | TCPFlag.ack)
            .build()
        _ = dp.run(synAck, from: .internal, now: now, network: network)
        let ack = PacketBuilder().ethernet(src: Topology.clientMAC, dst: Topology.extMAC)
            .ipv4(src: Topology.client, dst: Topology.vip).tcp(
                sport: port, dport: 80, seq: 5001, ack: 9001, flags: TCPFlag.ack
            )
            .build()
        _ = dp.run(ack, from: .external, now: now, network: network)
        return (out.info.destination, out.info.source, out.info.sourcePort)
    }

    func configuration(down: Set<IPAddress>) -> DataplaneConfiguration {
        var c = Topology.configuration(weights: [1, 1], scheduler: .rr)
        for i in c.services.indices {
            for j in c.services[i].realServers.indices where down.contains(c.services[i].realServers[j].address) {
                c.services[i].realServers[j].isUp = false
            }
        }
        return c
    }

    @Test func downServerConnectionsAreReset() {
        var dp = Topology.dataplane(configuration(down: []))
        let a = establish(&dp, port: 41000, now: 1000)
        let b = establish(&dp, port: 41001, now: 1000)
        #expect(a.rs != b.rs)
        let dead = Topology.rs1
        dp.apply(configuration: configuration(down: [dead]))
        let sweeping = dp.isSweepingDownServers
        #expect(sweeping)
        dp.advance(now: 1001, network: network)
        let stillSweeping = dp.isSweepingDownServers
        #expect(!stillSweeping)
        #expect(dp.counters[.connectionsExpiredNoDestination] == 1)
        // One RST to the client of the dead server, seq = its last ack (9001), from VIP:80.
        #expect(dp.pendingOutputCount == 1)
        let deadPort: UInt16 = a.rs == dead ? 41000 : 41001
        let (bytes, side) = dp.withPendingOutput(0) { span, side in
            var bytes: [UInt8] = []
            for i in 0..<span.count { bytes.append(span[i]) }
            return (bytes, side)
        }
        do {
            #expect(side == .external)
            var info = PacketInfo()
            #expect(PacketParser.parse(bytes.span, length: bytes.count, into: &info) == nil)
            #expect(FrameChecker.problem(bytes) == nil)
            #expect(info.source == Topology.vip && info.sourcePort == 80)
            #expect(info.destination == Topology.client && info.destinationPort == deadPort)
            #expect(info.tcpFlags == TCPFlag.rst)
            #expect(bytes.u32(info.l4Offset + 4) == 9001)
        }
        dp.clearPendingOutput()

        // A late client segment is answered with a RST carrying its own ack; the entry goes.
        let late = PacketBuilder().ethernet(src: Topology.clientMAC, dst: Topology.extMAC)
            .ipv4(src: Topology.client, dst: Topology.vip)
            .tcp(sport: deadPort, dport: 80, seq: 5001, ack: 9500, flags: TCPFlag.ack).build()
        let answer = dp.run(late, from: .external, now: 1002, network: network)
        #expect(answer.verdict == .transmit(.external))
        #expect(answer.info.tcpFlags == TCPFlag.rst)
        #expect(answer.info.destinationPort == deadPort)
        #expect(answer.frame.u32(answer.info.l4Offset + 4) == 9500)
        #expect(FrameChecker.problem(answer.frame) == nil)
        #expect(dp.connectionCount == 1)

        // The live server's connection still forwards; new SYNs all go to the live server.
        let livePort: UInt16 = deadPort == 41000 ? 41001 : 41000
        let data = PacketBuilder().ethernet(src: Topology.clientMAC, dst: Topology.extMAC)
            .ipv4(src: Topology.client, dst: Topology.vip)
            .tcp(sport: livePort, dport: 80, seq: 5001, ack: 9001, flags: TCPFlag.ack, payload: [1, 2, 3]).build()
        #expect(dp.run(data, from: .external, now: 1003, network: network).verdict == .transmit(.internal))
        for port in UInt16(42000)..<42010 {
            let syn = PacketBuilder().ethernet(src: Topology.clientMAC, dst: Topology.extMAC)
                .ipv4(src: Topology.client, dst: Topology.vip).tcp(sport: port, dport: 80, seq: 1, flags: TCPFlag.syn)
                .build()
            let out = dp.run(syn, from: .external, now: 1004, network: network)
            #expect(out.info.destination != dead)
        }
    }

    @Test func goneEntryLingersThenExpires() {
        var dp = Topology.dataplane(configuration(down: []))
        _ = establish(&dp, port: 41000, now: 1000)
        _ = establish(&dp, port: 41001, now: 1000)
        dp.apply(configuration: configuration(down: [Topology.rs1, Topology.rs2]))
        dp.advance(now: 2000, network: network)
        #expect(dp.connectionCount == 2)
        dp.advance(now: 2000 + Dataplane.goneLingerMilliseconds + 100, network: network)
        #expect(dp.connectionCount == 0)
        // With every server down, a SYN is dropped for want of a real server.
        let syn = PacketBuilder().ethernet(src: Topology.clientMAC, dst: Topology.extMAC)
            .ipv4(src: Topology.client, dst: Topology.vip).tcp(sport: 43000, dport: 80, seq: 1, flags: TCPFlag.syn)
            .build()
        #expect(dp.run(syn, from: .external, now: 20_000, network: network).verdict == .drop(.noRealServer))
    }

    @Test func udpFlowsOfADownServerAreReleased() {
        var dp = Topology.dataplane(configuration(down: []))
        let query = PacketBuilder().ethernet(src: Topology.clientMAC, dst: Topology.extMAC)
            .ipv4(src: Topology.client, dst: Topology.vip).udp(sport: 5555, dport: 53, payload: [0, 1, 2, 3]).build()
        #expect(dp.run(query, from: .external, now: 1000, network: network).verdict == .transmit(.internal))
        #expect(dp.connectionCount == 1)
        dp.apply(configuration: configuration(down: [Topology.rs1]))
        dp.advance(now: 1001, network: network)
        #expect(dp.connectionCount == 0)
        #expect(dp.run(query, from: .external, now: 1002, network: network).verdict == .drop(.noRealServer))
    }
}
