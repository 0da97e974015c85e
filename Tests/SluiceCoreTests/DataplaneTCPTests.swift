// FULLNAT TCP through the data plane, frame by frame: every output is parsed back, compared field
// by field with what docs/protocol.md §3 prescribes, and its checksums recomputed from scratch
// (incremental updates must equal a full recomputation).

import SluiceCore
import SluicePacket
import SluiceTestKit
import Testing

@Suite struct DataplaneTCPTests {
    let network = Topology.network()

    func clientSYN(port: UInt16 = 40000, seq: UInt32 = 1_000_000, ts: UInt32 = 5000, extra: [TCPOptionSpec] = [])
        -> [UInt8]
    {
        PacketBuilder().ethernet(src: Topology.clientMAC, dst: Topology.extMAC)
            .ipv4(src: Topology.client, dst: Topology.vip, ttl: 64)
            .tcp(
                sport: port, dport: 80, seq: seq, flags: TCPFlag.syn,
                options: [.mss(1460), .sackPermitted, .timestamps(val: ts, ecr: 0), .nop, .windowScale(7)] + extra
            )
            .build()
    }

    @Test func handshakeAndDataBothWaysIPv4() {
        var dp = Topology.dataplane()
        let syn = dp.run(clientSYN(), from: .external, now: 10_000, network: network)
        #expect(syn.verdict == .transmit(.internal))
        #expect(FrameChecker.problem(syn.frame) == nil)
        #expect(Topology.lips.contains(syn.info.source))
        #expect(syn.info.destination == Topology.rs1 || syn.info.destination == Topology.rs2)
        #expect(syn.info.destinationPort == 8080)
        #expect(syn.info.sourcePort >= 1025)
        #expect(syn.frame.mac(0) == Topology.routerMAC.value)
        #expect(syn.frame.mac(6) == Topology.intMAC.value)
        #expect(syn.frame[14 + 8] == 63)
        let rsISN = syn.frame.u32(syn.info.l4Offset + 4)
        #expect(rsISN != 1_000_000)
        // The client's TSval is mapped onto the gateway's millisecond clock.
        #expect(syn.frame.u32(syn.info.tcpOptions.timestampOffset) == 10_000)
        #expect(dp.connectionCount == 1)

        let synAck = PacketBuilder().ethernet(src: Topology.routerMAC, dst: Topology.intMAC)
            .ipv4(src: syn.info.destination, dst: syn.info.source)
            .tcp(
                sport: 8080, dport: syn.info.sourcePort, seq: 777_000, ack: rsISN &+ 1,
                flags: TCPFlag.syn | TCPFlag.ack,
                options: [.mss(1460), .sackPermitted, .timestamps(val: 42, ecr: 10_000), .nop, .windowScale(7)]
            ).build()
        let back = dp.run(synAck, from: .internal, now: 10_001, network: network)
        #expect(back.verdict == .transmit(.external))
        #expect(FrameChecker.problem(back.frame) == nil)
        #expect(back.info.source == Topology.vip && back.info.sourcePort == 80)
        #expect(back.info.destination == Topology.client && back.info.destinationPort == 40000)
        #expect(back.frame.u32(back.info.l4Offset + 8) == 1_000_001)
        #expect(back.frame.u32(back.info.l4Offset + 4) == 777_000)
        #expect(back.frame.u32(back.info.tcpOptions.timestampOffset + 4) == 5000)
        #expect(back.frame.mac(0) == Topology.clientMAC.value)

        // Client ACK with data; the real server answers with SACK blocks covering client data.
        let data = PacketBuilder().ethernet(src: Topology.clientMAC, dst: Topology.extMAC)
            .ipv4(src: Topology.client, dst: Topology.vip)
            .tcp(
                sport: 40000, dport: 80, seq: 1_000_001, ack: 777_001, flags: TCPFlag.ack | TCPFlag.psh,
                options: [.nop, .nop, .timestamps(val: 5001, ecr: 42)], payload: Array("GET / HTTP/1.0\r\n\r\n".utf8)
            ).build()
        let fwd = dp.run(data, from: .external, now: 10_002, network: network)
        #expect(fwd.verdict == .transmit(.internal))
        #expect(FrameChecker.problem(fwd.frame) == nil)
        #expect(fwd.frame.u32(fwd.info.l4Offset + 4) == rsISN &+ 1)
        #expect(fwd.frame.u32(fwd.info.l4Offset + 8) == 777_001)
        #expect(fwd.frame.u32(fwd.info.tcpOptions.timestampOffset) == 10_001)

        let sack = PacketBuilder().ethernet(src: Topology.routerMAC, dst: Topology.intMAC)
            .ipv4(src: syn.info.destination, dst: syn.info.source)
            .tcp(
                sport: 8080, dport: syn.info.sourcePort, seq: 777_001, ack: rsISN &+ 1, flags: TCPFlag.ack,
                options: [.nop, .nop, .sack([(rsISN &+ 100, rsISN &+ 200), (rsISN &+ 300, rsISN &+ 400)])]
            ).build()
        let out = dp.run(sack, from: .internal, now: 10_003, network: network)
        #expect(out.verdict == .transmit(.external))
        #expect(FrameChecker.problem(out.frame) == nil)
        let blocks = out.info.tcpOptions.sackOffset
        #expect(out.info.tcpOptions.sackBlockCount == 2)
        #expect(out.frame.u32(blocks) == 1_000_100)
        #expect(out.frame.u32(blocks + 4) == 1_000_200)
        #expect(out.frame.u32(blocks + 8) == 1_000_300)
        #expect(out.frame.u32(blocks + 12) == 1_000_400)
        #expect(dp.counters[.connectionsCreated] == 1)
        #expect(dp.counters[.forwardedInbound] == 2)
        #expect(dp.counters[.forwardedOutbound] == 2)
    }

    @Test func handshakeIPv6() {
        var dp = Topology.dataplane()
        let syn = PacketBuilder().ethernet(src: Topology.clientMAC, dst: Topology.extMAC)
            .ipv6(src: Topology.client6, dst: Topology.vip6, hopLimit: 10)
            .tcp(sport: 41000, dport: 80, seq: 9, flags: TCPFlag.syn, options: [.mss(1440)]).build()
        let out = dp.run(syn, from: .external, now: 1, network: network)
        #expect(out.verdict == .transmit(.internal))
        #expect(FrameChecker.problem(out.frame) == nil)
        #expect(out.info.source == Topology.lip6)
        #expect(out.info.destination == Topology.rs6)
        #expect(out.frame[14 + 7] == 9)
        let reply = PacketBuilder().ethernet(src: Topology.routerMAC, dst: Topology.intMAC)
            .ipv6(src: Topology.rs6, dst: Topology.lip6)
            .tcp(
                sport: 8080, dport: out.info.sourcePort, seq: 1, ack: out.frame.u32(out.info.l4Offset + 4) &+ 1,
                flags: TCPFlag.syn | TCPFlag.ack, options: [.mss(1440)]
            ).build()
        let back = dp.run(reply, from: .internal, now: 2, network: network)
        #expect(back.verdict == .transmit(.external))
        #expect(FrameChecker.problem(back.frame) == nil)
        #expect(back.info.source == Topology.vip6 && back.info.destination == Topology.client6)
        #expect(back.frame.u32(back.info.l4Offset + 8) == 10)
    }

    @Test func mssIsClampedToThePathMTU() {
        var dp = Topology.dataplane()
        let net = Topology.network(rsMTU: 1400)
        let syn = dp.run(clientSYN(), from: .external, now: 1, network: net)
        // The client's MSS limits what comes back over the 1500-byte client side: unchanged.
        #expect(syn.frame.u16(syn.info.tcpOptions.mssOffset) == 1460)
        let synAck = PacketBuilder().ethernet(src: Topology.routerMAC, dst: Topology.intMAC)
            .ipv4(src: syn.info.destination, dst: syn.info.source)
            .tcp(
                sport: 8080, dport: syn.info.sourcePort, seq: 1, ack: syn.frame.u32(syn.info.l4Offset + 4) &+ 1,
                flags: TCPFlag.syn | TCPFlag.ack, options: [.mss(1460)]
            ).build()
        let back = dp.run(synAck, from: .internal, now: 2, network: net)
        // The real server's MSS tells the client what to send over the 1400-byte RS side.
        #expect(back.frame.u16(back.info.tcpOptions.mssOffset) == 1360)
        #expect(FrameChecker.problem(back.frame) == nil)
        #expect(dp.counters[.mssClamped] == 1)
    }

    @Test func clientSentTOAIsStripped() {
        var dp = Topology.dataplane()
        let syn = clientSYN(extra: [.nop, .raw(kind: 254, bytes: [0, 80, 1, 2, 3, 4])])
        let out = dp.run(syn, from: .external, now: 1, network: network)
        #expect(out.verdict == .transmit(.internal))
        #expect(out.info.tcpOptions.toaOffset < 0)
        #expect(FrameChecker.problem(out.frame) == nil)
        #expect(dp.counters[.toaStripped] == 1)
    }

    @Test func straysAndUnknownDestinationsAreDroppedWithReasons() {
        var dp = Topology.dataplane()
        let ack = PacketBuilder().ipv4(src: Topology.client, dst: Topology.vip).tcp(sport: 1, dport: 80).build()
        #expect(dp.run(ack, from: .external, now: 1, network: network).verdict == .drop(.noConnection))
        let other = PacketBuilder().ipv4(src: Topology.client, dst: Topology.vip).tcp(sport: 1, dport: 81).build()
        #expect(dp.run(other, from: .external, now: 1, network: network).verdict == .drop(.noService))
        let toLIP = PacketBuilder().ipv4(src: Topology.rs1, dst: Topology.lips[0]).tcp(sport: 8080, dport: 2000).build()
        #expect(dp.run(toLIP, from: .internal, now: 1, network: network).verdict == .drop(.noConnection))
        #expect(dp.counters[.noConnection] == 2)
        #expect(dp.counters[.noService] == 1)
        #expect(dp.connectionCount == 0)
    }

    @Test func replyToAnotherWorkersPortIsHandedOffOnce() {
        var dp = Topology.dataplane(worker: 0, workers: 2)
        let toLIP = PacketBuilder().ipv4(src: Topology.rs1, dst: Topology.lips[0]).tcp(sport: 8080, dport: 2001).build()
        #expect(dp.run(toLIP, from: .internal, now: 1, network: network).verdict == .handOff(1))
        // Handed here although another worker owns it: never handed on, counted.
        #expect(
            dp.run(toLIP, from: .internal, now: 1, network: network, handedOff: true).verdict == .drop(.wrongWorker))
        #expect(dp.counters[.wrongWorker] == 1)
        #expect(dp.counters[.receivedInternal] == 1)
    }

    @Test func unresolvedNextHopIsDroppedAndResolutionRequested() {
        var dp = Topology.dataplane()
        let out = dp.run(clientSYN(), from: .external, now: 1, network: Topology.network(resolvedRouter: false))
        #expect(out.verdict == .drop(.neighbourUnresolved))
        #expect(dp.pendingResolutionCount == 1)
        #expect(dp.pendingResolution(0).address == Topology.router)
        #expect(dp.pendingResolution(0).interfaceIndex == 2)
        // The client's retransmitted SYN goes through once the kernel has resolved the router.
        let again = dp.run(clientSYN(), from: .external, now: 1000, network: network)
        #expect(again.verdict == .transmit(.internal))
        #expect(dp.connectionCount == 1)
    }

    @Test func aNewNetworkSnapshotIsNeverServedFromTheEgressCache() {
        var dp = Topology.dataplane()
        let first = dp.run(clientSYN(port: 1), from: .external, now: 1, network: network)
        #expect(first.frame.mac(0) == Topology.routerMAC.value)
        let moved = MACAddress(0x0200_0000_00B0)
        let next = NetworkView(
            interfaces: network.interfaces, routes: network.routes,
            neighbours: network.neighbours.map {
                var n = $0
                if n.address == Topology.router { n.mac = moved }
                return n
            }, generation: network.generation + 1)
        let second = dp.run(clientSYN(port: 2), from: .external, now: 2, network: next)
        #expect(second.verdict == .transmit(.internal))
        #expect(second.frame.mac(0) == moved.value)
    }

    @Test func newSYNOnTimeWaitEntryStartsAFreshConnection() {
        var dp = Topology.dataplane()
        let syn = dp.run(clientSYN(), from: .external, now: 1, network: network)
        let rsISN = syn.frame.u32(syn.info.l4Offset + 4)
        func fromRS(_ flags: UInt8, seq: UInt32, ack: UInt32) -> [UInt8] {
            PacketBuilder().ipv4(src: syn.info.destination, dst: syn.info.source)
                .tcp(sport: 8080, dport: syn.info.sourcePort, seq: seq, ack: ack, flags: flags).build()
        }
        func fromClient(_ flags: UInt8, seq: UInt32, ack: UInt32) -> [UInt8] {
            PacketBuilder().ipv4(src: Topology.client, dst: Topology.vip)
                .tcp(sport: 40000, dport: 80, seq: seq, ack: ack, flags: flags).build()
        }
        _ = dp.run(
            fromRS(TCPFlag.syn | TCPFlag.ack, seq: 50, ack: rsISN &+ 1), from: .internal, now: 2, network: network)
        _ = dp.run(fromClient(TCPFlag.ack, seq: 1_000_001, ack: 51), from: .external, now: 3, network: network)
        _ = dp.run(
            fromClient(TCPFlag.fin | TCPFlag.ack, seq: 1_000_001, ack: 51), from: .external, now: 4, network: network)
        _ = dp.run(
            fromRS(TCPFlag.fin | TCPFlag.ack, seq: 51, ack: rsISN &+ 2), from: .internal, now: 5, network: network)
        _ = dp.run(fromClient(TCPFlag.ack, seq: 1_000_002, ack: 52), from: .external, now: 6, network: network)
        let syn2 = dp.run(clientSYN(seq: 2_000_000), from: .external, now: 60_000, network: network)
        #expect(syn2.verdict == .transmit(.internal))
        #expect(dp.connectionCount == 1)
        #expect(dp.counters[.connectionsCreated] == 2)
        // A fresh ISN, from the clock-driven generator, not the old delta applied to the new client ISN.
        #expect(syn2.frame.u32(syn2.info.l4Offset + 4) != rsISN &+ 1_000_000)
    }
}
