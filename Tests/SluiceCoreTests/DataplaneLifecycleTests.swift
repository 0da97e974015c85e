// Connection lifetime under a manual clock: per-state timeouts, the per-service override, LIP
// ports returned to the pool, exhaustion, scheduler weights, quiescent servers, and a truncation
// sweep over every frame kind the data plane handles.

import SluiceCore
import SluicePacket
import SluiceTestKit
import Testing

@Suite struct DataplaneLifecycleTests {
    let network = Topology.network()

    func syn(_ port: UInt16, client: IPAddress = Topology.client) -> [UInt8] {
        PacketBuilder().ethernet(src: Topology.clientMAC, dst: Topology.extMAC)
            .ipv4(src: client, dst: Topology.vip).tcp(sport: port, dport: 80, seq: 1, flags: TCPFlag.syn).build()
    }

    @Test func connectionsExpireByStateAndFreeTheirPort() {
        // One real server: its two ports towards it are all there is.
        var dp = Topology.dataplane(
            Topology.configuration(weights: [1], portRange: 2000...2001, lips: [Topology.lips[0]]))
        var clock = ManualClock(now: 1_000)
        #expect(dp.run(syn(1), from: .external, now: clock.now, network: network).verdict == .transmit(.internal))
        #expect(dp.run(syn(2), from: .external, now: clock.now, network: network).verdict == .transmit(.internal))
        #expect(
            dp.run(syn(3), from: .external, now: clock.now, network: network).verdict == .drop(.localPortsExhausted))
        #expect(dp.localPortUsage.inUse == 2)
        #expect(dp.localPortUsage.exhausted == 1)
        // SYN_RECV lives 30 s (dpvs default).
        clock.advance(by: 29_000)
        dp.advance(now: clock.now)
        #expect(dp.connectionCount == 2)
        clock.advance(by: 2_000)
        dp.advance(now: clock.now)
        #expect(dp.connectionCount == 0)
        #expect(dp.localPortUsage.inUse == 0)
        #expect(dp.counters[.connectionsExpired] == 2)
        #expect(dp.run(syn(3), from: .external, now: clock.now, network: network).verdict == .transmit(.internal))
    }

    @Test func establishedTimeoutOverrideAndRefreshByTraffic() {
        var dp = Topology.dataplane(Topology.configuration(establishTimeout: 5))
        var clock = ManualClock(now: 1_000)
        let out = dp.run(syn(1), from: .external, now: clock.now, network: network)
        let synAck = PacketBuilder().ipv4(src: out.info.destination, dst: out.info.source)
            .tcp(
                sport: 8080, dport: out.info.sourcePort, seq: 9, ack: out.frame.u32(out.info.l4Offset + 4) &+ 1,
                flags: TCPFlag.syn | TCPFlag.ack
            ).build()
        _ = dp.run(synAck, from: .internal, now: clock.now, network: network)
        let ack = PacketBuilder().ipv4(src: Topology.client, dst: Topology.vip)
            .tcp(sport: 1, dport: 80, seq: 2, ack: 10, flags: TCPFlag.ack).build()
        #expect(dp.run(ack, from: .external, now: clock.now, network: network).verdict == .transmit(.internal))
        for _ in 0..<4 {
            clock.advance(by: 4_000)
            dp.advance(now: clock.now)
            #expect(dp.run(ack, from: .external, now: clock.now, network: network).verdict == .transmit(.internal))
        }
        #expect(dp.connectionCount == 1)
        clock.advance(by: 5_100)
        dp.advance(now: clock.now)
        #expect(dp.connectionCount == 0)
    }

    @Test func weightedRoundRobinHonoursWeightsAndQuiescence() {
        var dp = Topology.dataplane(Topology.configuration(weights: [100, 50, 0]))
        var seen: [IPAddress: Int] = [:]
        for i in 0..<3000 {
            let client = IPAddress(v4: 0xC633_6400 | UInt32(i % 200 + 2))
            let out = dp.run(syn(UInt16(10_000 + i)), from: .external, now: 1, network: network)
            _ = client
            guard out.verdict == .transmit(.internal) else {
                Issue.record("SYN \(i) dropped: \(out.verdict)")
                return
            }
            seen[out.info.destination, default: 0] += 1
        }
        #expect(seen[Topology.rs1] == 2000)
        #expect(seen[Topology.rs2] == 1000)
        #expect(seen[Topology.ip("10.30.0.13")] == nil)

        var none = Topology.dataplane(Topology.configuration(weights: [0, 0]))
        #expect(none.run(syn(1), from: .external, now: 1, network: network).verdict == .drop(.noRealServer))
    }

    @Test func quiescedServerKeepsItsConnections() {
        var dp = Topology.dataplane(Topology.configuration(weights: [1, 1], scheduler: .rr))
        let first = dp.run(syn(1), from: .external, now: 1, network: network)
        #expect(first.verdict == .transmit(.internal))
        let pinned = first.info.destination
        dp.apply(
            configuration: Topology.configuration(weights: pinned == Topology.rs1 ? [0, 1] : [1, 0], scheduler: .rr))
        for port in UInt16(2)...20 {
            #expect(dp.run(syn(port), from: .external, now: 2, network: network).info.destination != pinned)
        }
        let ack = PacketBuilder().ipv4(src: Topology.client, dst: Topology.vip)
            .tcp(sport: 1, dport: 80, seq: 2, ack: 10, flags: TCPFlag.ack).build()
        let again = dp.run(ack, from: .external, now: 3, network: network)
        #expect(again.verdict == .transmit(.internal))
        #expect(again.info.destination == pinned)
    }

    @Test func everyPrefixOfEveryFrameIsDroppedCleanly() {
        let frames: [[UInt8]] = [
            syn(1),
            PacketBuilder().ipv4(src: Topology.client, dst: Topology.vip).udp(sport: 5, dport: 53, payload: [1, 2])
                .build(),
            PacketBuilder().ipv6(src: Topology.client6, dst: Topology.vip6)
                .tcp(sport: 5, dport: 80, flags: TCPFlag.syn, options: [.mss(1400), .timestamps(val: 1, ecr: 0)])
                .build(),
            PacketBuilder().ipv4(src: Topology.router, dst: Topology.lips[0])
                .icmp(
                    type: 3, code: 4,
                    payload: PacketBuilder().ipv4(src: Topology.lips[0], dst: Topology.rs1)
                        .tcp(sport: 3000, dport: 8080).buildIP()
                ).build(),
            PacketBuilder().ipv4(src: Topology.client, dst: Topology.vip, options: [1, 1, 1, 0])
                .tcp(sport: 5, dport: 80, flags: TCPFlag.syn, options: [.sack([(1, 2)])]).build(),
        ]
        for frame in frames {
            for n in 0..<frame.count {
                var dp = Topology.dataplane()
                let out = dp.run(Array(frame.prefix(n)), from: .external, now: 1, network: network)
                guard case .drop = out.verdict else {
                    Issue.record("prefix \(n) of a \(frame.count)-byte frame was not dropped: \(out.verdict)")
                    continue
                }
            }
        }
    }
}
