// UDP in FULLNAT and ICMP errors both ways: translated errors about connections, and errors Sluice
// originates itself (TTL expiry, too big for the next link).

import SluiceCore
import SluicePacket
import SluiceTestKit
import Testing

@Suite struct DataplaneUDPAndICMPTests {
    let network = Topology.network()

    func query(zeroChecksum: Bool = false) -> [UInt8] {
        PacketBuilder().ethernet(src: Topology.clientMAC, dst: Topology.extMAC)
            .ipv4(src: Topology.client, dst: Topology.vip)
            .udp(sport: 5555, dport: 53, payload: Array("hello".utf8), zeroChecksum: zeroChecksum).build()
    }

    @Test(arguments: [false, true]) func udpRequestAndResponse(zeroChecksum: Bool) {
        var dp = Topology.dataplane()
        let out = dp.run(query(zeroChecksum: zeroChecksum), from: .external, now: 1, network: network)
        #expect(out.verdict == .transmit(.internal))
        #expect(FrameChecker.problem(out.frame) == nil)
        #expect(out.info.destination == Topology.rs1 && out.info.destinationPort == 5353)
        // IPv4 UDP without a checksum keeps "no checksum" (RFC 768).
        #expect((out.frame.u16(out.info.l4Offset + 6) == 0) == zeroChecksum)
        let reply = PacketBuilder().ethernet(src: Topology.routerMAC, dst: Topology.intMAC)
            .ipv4(src: Topology.rs1, dst: out.info.source)
            .udp(sport: 5353, dport: out.info.sourcePort, payload: Array("world".utf8), zeroChecksum: zeroChecksum)
            .build()
        let back = dp.run(reply, from: .internal, now: 2, network: network)
        #expect(back.verdict == .transmit(.external))
        #expect(FrameChecker.problem(back.frame) == nil)
        #expect(back.info.source == Topology.vip && back.info.sourcePort == 53)
        #expect(back.info.destination == Topology.client && back.info.destinationPort == 5555)
        #expect(Array(back.frame[back.info.payloadOffset..<back.info.payloadOffset + 5]) == Array("world".utf8))
    }

    @Test func ttlExpiryAnswersWithTimeExceeded() {
        var dp = Topology.dataplane()
        let frame = PacketBuilder().ethernet(src: Topology.clientMAC, dst: Topology.extMAC)
            .ipv4(src: Topology.client, dst: Topology.vip, ttl: 1).udp(sport: 5555, dport: 53).build()
        let out = dp.run(frame, from: .external, now: 1, network: network)
        #expect(out.verdict == .transmit(.external))
        #expect(FrameChecker.problem(out.frame) == nil)
        #expect(out.info.l4Protocol == 1 && out.info.icmpType == 11)
        #expect(out.info.destination == Topology.client)
        #expect(out.frame.mac(0) == Topology.clientMAC.value)
        #expect(dp.counters[.ttlExceeded] == 1)
        #expect(dp.counters[.icmpGenerated] == 1)
    }

    @Test func tooBigForTheRealServerSideAnswersFragmentationNeeded() {
        var dp = Topology.dataplane()
        let net = Topology.network(rsMTU: 1000)
        let big = PacketBuilder().ethernet(src: Topology.clientMAC, dst: Topology.extMAC)
            .ipv4(src: Topology.client, dst: Topology.vip, df: true)
            .udp(sport: 5555, dport: 53, payload: Array(repeating: 7, count: 1200)).build()
        let out = dp.run(big, from: .external, now: 1, network: net)
        #expect(out.verdict == .transmit(.external))
        #expect(FrameChecker.problem(out.frame) == nil)
        #expect(out.info.icmpType == 3 && out.info.icmpCode == 4)
        #expect(out.frame.u16(out.info.l4Offset + 6) == 1000)
        #expect(out.info.source == Topology.vip && out.info.destination == Topology.client)
        let noDF = PacketBuilder().ipv4(src: Topology.client, dst: Topology.vip, df: false)
            .udp(sport: 5556, dport: 53, payload: Array(repeating: 7, count: 1200)).build()
        #expect(dp.run(noDF, from: .external, now: 1, network: net).verdict == .drop(.tooBig))
    }

    @Test func fragmentationNeededFromBehindTheGatewayReachesTheClientTranslated() {
        var dp = Topology.dataplane()
        let syn = PacketBuilder().ethernet(src: Topology.clientMAC, dst: Topology.extMAC)
            .ipv4(src: Topology.client, dst: Topology.vip)
            .tcp(sport: 40000, dport: 80, seq: 1_000_000, flags: TCPFlag.syn).build()
        let fwd = dp.run(syn, from: .external, now: 1, network: network)
        let quoted = Array(fwd.frame[14...])
        // The router between Sluice and the real server cannot carry the segment: it tells the LIP.
        let error = PacketBuilder().ethernet(src: Topology.routerMAC, dst: Topology.intMAC)
            .ipv4(src: Topology.router, dst: fwd.info.source)
            .icmp(type: 3, code: 4, rest: 1280, payload: quoted).build()
        let out = dp.run(error, from: .internal, now: 2, network: network)
        #expect(out.verdict == .transmit(.external))
        #expect(FrameChecker.problem(out.frame) == nil)
        #expect(out.info.source == Topology.vip && out.info.destination == Topology.client)
        var inner = EmbeddedPacket()
        #expect(PacketParser.parseICMPError(out.frame.span, info: out.info, into: &inner) == nil)
        #expect(inner.source == Topology.client && inner.sourcePort == 40000)
        #expect(inner.destination == Topology.vip && inner.destinationPort == 80)
        #expect(out.frame.u32(inner.l4Offset + 4) == 1_000_000)
        #expect(out.frame.u16(out.info.l4Offset + 6) == 1280)
        #expect(dp.counters[.icmpTranslated] == 1)

        // And from the client side, about a segment of the real server's.
        let fromClientSide = PacketBuilder().ethernet(src: Topology.clientMAC, dst: Topology.extMAC)
            .ipv4(src: Topology.client, dst: Topology.vip)
            .icmp(
                type: 3, code: 4, rest: 1200,
                payload: PacketBuilder().ipv4(src: Topology.vip, dst: Topology.client)
                    .tcp(sport: 80, dport: 40000, seq: 5, ack: 1_000_001).buildIP()
            ).build()
        let toRS = dp.run(fromClientSide, from: .external, now: 3, network: network)
        #expect(toRS.verdict == .transmit(.internal))
        #expect(FrameChecker.problem(toRS.frame) == nil)
        #expect(toRS.info.source == fwd.info.source && toRS.info.destination == fwd.info.destination)
    }

    @Test func unrelatedAndCorruptICMPIsDropped() {
        var dp = Topology.dataplane()
        let echo = PacketBuilder().ipv4(src: Topology.client, dst: Topology.vip).icmp(type: 8).build()
        #expect(dp.run(echo, from: .external, now: 1, network: network).verdict == .drop(.icmpNotRelated))
        let unknown = PacketBuilder().ipv4(src: Topology.router, dst: Topology.lips[0])
            .icmp(
                type: 3, code: 4,
                payload: PacketBuilder().ipv4(src: Topology.lips[0], dst: Topology.rs1).tcp(sport: 3000, dport: 8080)
                    .buildIP()
            ).build()
        #expect(dp.run(unknown, from: .internal, now: 1, network: network).verdict == .drop(.noConnection))
        var corrupt = unknown
        corrupt[corrupt.count - 1] ^= 0xFF
        #expect(dp.run(corrupt, from: .internal, now: 1, network: network).verdict == .drop(.badL4Checksum))
    }
}
