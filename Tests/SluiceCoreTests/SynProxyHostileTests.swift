// SYNPROXY against hostile or broken peers (docs/protocol.md §2, pitfalls 10–12): ACKs with bad or
// expired cookies, the optional RST answer and its rate limit, ACK storms, RSTs outside or merely
// inside the window (RFC 5961 §3), and a truncation sweep over every frame kind SYNPROXY handles.

import SluiceCore
import SluicePacket
import SluiceTestKit
import Testing

@Suite struct SynProxyHostileTests {
    @Test func badAndExpiredCookiesAreDroppedWithoutState() {
        var bench = SynProxyBench()
        let forged = bench.fromClient()
            .tcp(sport: 40000, dport: 80, seq: 1_000_001, ack: 0xDEAD_BEEF, flags: TCPFlag.ack).build()
        #expect(
            bench.dp.run(forged, from: .external, now: 100_000, network: bench.network).verdict
                == .drop(.badCookie))
        // A genuine cookie, returned three minutes later.
        let synAck = bench.dp.run(bench.syn(), from: .external, now: 100_000, network: bench.network)
        let cookie = synAck.frame.u32(synAck.info.l4Offset + 4)
        #expect(
            bench.dp.run(bench.ack(cookie: cookie), from: .external, now: 280_000, network: bench.network).verdict
                == .drop(.badCookie))
        // The right cookie for another client ISN.
        #expect(
            bench.dp.run(
                bench.ack(cookie: cookie, seq: 1_000_002), from: .external, now: 100_001, network: bench.network
            )
            .verdict == .drop(.badCookie))
        // RST, FIN-only and other non-ACK segments without a connection are strays.
        let rst = bench.fromClient().tcp(sport: 40000, dport: 80, seq: 5, flags: TCPFlag.rst).build()
        #expect(
            bench.dp.run(rst, from: .external, now: 100_001, network: bench.network).verdict
                == .drop(.noConnection))
        #expect(bench.dp.connectionCount == 0)
        #expect(bench.dp.pendingOutputCount == 0)
        #expect(bench.dp.localPortUsage.inUse == 0)
        #expect(bench.dp.counters[.synProxyAcksInvalid] == 3)
        #expect(bench.dp.counters[.badCookie] == 3)
        #expect(bench.dp.counters[.synProxyAcksValid] == 0)
    }

    @Test func badCookieCanBeAnsweredWithARateLimitedRST() {
        var bench = SynProxyBench(settings: SynProxyConfiguration(resetOnBadCookie: true))
        let payload: [UInt8] = [1, 2, 3]
        let forged = bench.fromClient()
            .tcp(sport: 40000, dport: 80, seq: 1_000_001, ack: 0xDEAD_BEEF, flags: TCPFlag.ack, payload: payload)
            .build()
        let out = bench.dp.run(forged, from: .external, now: 100_000, network: bench.network)
        #expect(out.verdict == .transmit(.external))
        #expect(FrameChecker.problem(out.frame) == nil)
        #expect(out.frame.mac(0) == Topology.clientMAC.value)
        #expect(out.info.source == Topology.vip && out.info.destination == Topology.client)
        #expect(out.info.sourcePort == 80 && out.info.destinationPort == 40000)
        // RFC 9293 §3.10.7.1: <SEQ=SEG.ACK><CTL=RST>.
        #expect(out.info.tcpFlags == TCPFlag.rst)
        #expect(out.frame.u32(out.info.l4Offset + 4) == 0xDEAD_BEEF)
        #expect(out.info.payloadLength == 0)
        var sent: UInt64 = 1
        for _ in 0..<200 {
            if case .transmit = bench.dp.run(forged, from: .external, now: 100_000, network: bench.network).verdict {
                sent += 1
            }
        }
        #expect(sent == 100)
        #expect(bench.dp.counters[.synProxyResetsSent] == 100)
        #expect(bench.dp.counters[.badCookie] == 101)
        #expect(bench.dp.connectionCount == 0)
    }

    @Test func ackStormFromTheServerIsCutAtTheThreshold() {
        var bench = SynProxyBench()
        let c = bench.open(now: 100_000)
        #expect(bench.accept(c, now: 100_001) == .transmit(.internal))
        let dupAck = bench.fromServer(c, seq: 777_001, ack: c.isn &+ 1, flags: TCPFlag.ack)
        var verdicts: [Verdict] = []
        for _ in 0..<13 {
            verdicts.append(bench.dp.run(dupAck, from: .internal, now: 100_002, network: bench.network).verdict)
        }
        // The first and 9 repeats pass; from the 10th repeat on they are dropped.
        #expect(verdicts.prefix(10).allSatisfy { $0 == .transmit(.external) })
        #expect(verdicts.suffix(3).allSatisfy { $0 == .drop(.ackStorm) })
        #expect(bench.dp.counters[.ackStorm] == 3)
        // Progress ends the storm.
        let next = bench.fromServer(c, seq: 777_001, ack: c.isn &+ 1, flags: TCPFlag.ack, window: 999)
        #expect(
            bench.dp.run(next, from: .internal, now: 100_003, network: bench.network).verdict == .transmit(.external))
        // Duplicate ACKs of a SACK recovery differ in their blocks: never a storm.
        for i in 0..<20 {
            let sack = bench.fromServer(
                c, seq: 777_001, ack: c.isn &+ 1, flags: TCPFlag.ack,
                options: [.nop, .nop, .sack([(c.isn &+ 100, c.isn &+ 200 &+ UInt32(i * 100))])])
            #expect(
                bench.dp.run(sack, from: .internal, now: 100_004, network: bench.network).verdict
                    == .transmit(.external))
        }
    }

    @Test func ackStormCheckCanBeDisabled() {
        var bench = SynProxyBench(settings: SynProxyConfiguration(ackStormThreshold: 0))
        let c = bench.open(now: 100_000)
        _ = bench.accept(c, now: 100_001)
        let dupAck = bench.fromServer(c, seq: 777_001, ack: c.isn &+ 1, flags: TCPFlag.ack)
        for _ in 0..<20 {
            #expect(
                bench.dp.run(dupAck, from: .internal, now: 100_002, network: bench.network).verdict
                    == .transmit(.external))
        }
    }

    @Test func serverRSTsAreCheckedAgainstTheClientsWindow() {
        var bench = SynProxyBench()
        let c = bench.open(now: 100_000)
        _ = bench.accept(c, now: 100_001)
        // Outside the client's largest window (65535 << 2): dropped, the entry stays.
        let far = bench.fromServer(c, seq: 777_001 &+ 300_000, ack: c.isn &+ 1, flags: TCPFlag.rst | TCPFlag.ack)
        #expect(
            bench.dp.run(far, from: .internal, now: 100_002, network: bench.network).verdict
                == .drop(.rstOutOfWindow))
        let before = bench.fromServer(c, seq: 777_000, ack: c.isn &+ 1, flags: TCPFlag.rst)
        #expect(
            bench.dp.run(before, from: .internal, now: 100_002, network: bench.network).verdict
                == .drop(.rstOutOfWindow))
        // Inside but not exact: forwarded for the client to judge, the state is kept, but the entry
        // now expires after the CLOSE timeout unless traffic continues.
        let near = bench.fromServer(c, seq: 777_001 &+ 1000, ack: c.isn &+ 1, flags: TCPFlag.rst | TCPFlag.ack)
        let forwarded = bench.dp.run(near, from: .internal, now: 100_003, network: bench.network)
        #expect(forwarded.verdict == .transmit(.external))
        #expect(FrameChecker.problem(forwarded.frame) == nil)
        #expect(forwarded.info.tcpFlags & TCPFlag.rst != 0)
        #expect(forwarded.frame.u32(forwarded.info.l4Offset + 4) == c.cookie &+ 1 &+ 1000)
        #expect(bench.dp.counters[.rstInWindow] == 1)
        // The client's challenge ACK keeps the connection alive.
        let challenge = bench.ack(cookie: c.cookie, tsval: 5020, tsecr: 1)
        #expect(
            bench.dp.run(challenge, from: .external, now: 100_004, network: bench.network).verdict
                == .transmit(.internal))
        bench.dp.advance(now: 110_000)
        #expect(bench.dp.connectionCount == 1)
        // Without one, the entry goes after 3 s.
        _ = bench.dp.run(near, from: .internal, now: 110_001, network: bench.network)
        bench.dp.advance(now: 113_100)
        #expect(bench.dp.connectionCount == 0)
        #expect(bench.dp.counters[.rstOutOfWindow] == 2)
    }

    @Test func clientRSTsAreCheckedAgainstTheServersWindow() {
        var bench = SynProxyBench()
        let c = bench.open(now: 100_000)
        _ = bench.accept(c, now: 100_001)
        // The RS acknowledged ISN + 1; its SYN-ACK had window scale 7.
        let reply = bench.fromServer(c, seq: 777_001, ack: c.isn &+ 1, flags: TCPFlag.ack)
        _ = bench.dp.run(reply, from: .internal, now: 100_002, network: bench.network)
        let far = bench.fromClient()
            .tcp(sport: 40000, dport: 80, seq: 1_000_001 &+ 10_000_000, flags: TCPFlag.rst).build()
        #expect(
            bench.dp.run(far, from: .external, now: 100_003, network: bench.network).verdict
                == .drop(.rstOutOfWindow))
        let exact = bench.fromClient().tcp(sport: 40000, dport: 80, seq: 1_000_001, flags: TCPFlag.rst).build()
        let out = bench.dp.run(exact, from: .external, now: 100_004, network: bench.network)
        #expect(out.verdict == .transmit(.internal))
        #expect(FrameChecker.problem(out.frame) == nil)
        #expect(out.frame.u32(out.info.l4Offset + 4) == c.isn &+ 1)
        // Exact: the entry closes (CLOSE lives 3 s).
        bench.dp.advance(now: 103_100)
        #expect(bench.dp.connectionCount == 0)
    }

    @Test func everyPrefixOfEverySynProxyFrameIsDroppedCleanly() {
        var bench = SynProxyBench()
        let c = bench.open(now: 100_000, payload: [1, 2, 3])
        let frames: [[UInt8]] = [
            bench.syn(),
            bench.ack(cookie: c.cookie, seq: 1_000_004, payload: [4, 5]),
            bench.fromServer(
                c, seq: 777_000, ack: c.isn &+ 1, flags: TCPFlag.syn | TCPFlag.ack,
                options: [.mss(1460), .sackPermitted, .timestamps(val: 1, ecr: 2), .nop, .windowScale(7)]),
            bench.fromServer(c, seq: 0, ack: c.isn &+ 1, flags: TCPFlag.rst | TCPFlag.ack),
        ]
        for frame in frames {
            for n in 0..<frame.count {
                let out = bench.dp.run(Array(frame.prefix(n)), from: .external, now: 100_002, network: bench.network)
                guard case .drop = out.verdict else {
                    Issue.record("prefix \(n) of a \(frame.count)-byte frame was not dropped: \(out.verdict)")
                    continue
                }
            }
        }
        #expect(bench.dp.synProxyHeldSegments == 1)
        #expect(bench.dp.pendingOutputCount == 0)
        #expect(bench.dp.counters[.synProxyCookiesSent] == 1)
        // Nothing was disturbed: the complete SYN-ACK still finishes the handshake.
        #expect(bench.accept(c, now: 100_003) == .transmit(.internal))
    }
}
