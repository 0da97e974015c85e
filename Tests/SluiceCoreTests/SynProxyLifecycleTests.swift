// SYNPROXY connection lifetime under a manual clock (docs/protocol.md §2): RS SYN retransmissions and
// give-up, refusal by the RS, segments held while pending (bounded, deduplicated), a client abort,
// an unresolved RS next hop, and reuse of a TIME_WAIT entry by a new handshake.

import SluiceCore
import SluicePacket
import SluiceTestKit
import Testing

/// The numbers of one SYN-proxied connection after S2 (the RS SYN is in `syn`).
struct PendingConnection {
    var cookie: UInt32
    var isn: UInt32
    var syn: [UInt8]
    var info: PacketInfo
    var real: IPAddress { info.destination }
    var local: IPAddress { info.source }
    var localPort: UInt16 { info.sourcePort }
}

extension SynProxyBench {
    /// Runs S1 and S2 at `now` and `now + 1`; the RS SYN is taken out of the output queue.
    mutating func open(now: UInt64, payload: [UInt8] = []) -> PendingConnection {
        let synAck = dp.run(syn(), from: .external, now: now, network: network)
        let cookie = synAck.frame.u32(synAck.info.l4Offset + 4)
        let held = dp.run(
            ack(cookie: cookie, tsecr: UInt32(truncatingIfNeeded: now), payload: payload), from: .external,
            now: now + 1, network: network)
        #expect(held.verdict == .drop(.heldForReplay))
        let frame = pending(0).frame
        dp.clearPendingOutput()
        let info = parse(frame)
        return PendingConnection(cookie: cookie, isn: frame.u32(info.l4Offset + 4), syn: frame, info: info)
    }

    /// A segment from the connection's real server.
    func fromServer(
        _ c: PendingConnection, seq: UInt32, ack: UInt32, flags: UInt8, window: UInt16 = 1000,
        options: [TCPOptionSpec] = [], payload: [UInt8] = []
    ) -> [UInt8] {
        fromServer(c.real, to: c.local)
            .tcp(
                sport: 8080, dport: c.localPort, seq: seq, ack: ack, flags: flags, window: window, options: options,
                payload: payload
            ).build()
    }

    /// Completes the RS handshake (RS ISN 777 000) and returns the replayed ACK's verdict.
    mutating func accept(_ c: PendingConnection, now: UInt64) -> Verdict {
        let options: [TCPOptionSpec] = [
            .mss(1460), .sackPermitted, .timestamps(val: 1, ecr: UInt32(truncatingIfNeeded: now)), .nop,
            .windowScale(7),
        ]
        return dp.run(
            fromServer(c, seq: 777_000, ack: c.isn &+ 1, flags: TCPFlag.syn | TCPFlag.ack, options: options),
            from: .internal, now: now, network: network
        ).verdict
    }
}

@Suite struct SynProxyLifecycleTests {
    @Test func silentServerGetsThreeRetransmissionsThenTheConnectionExpires() {
        var bench = SynProxyBench()
        // The ACK arrives at 100 000 (a timer-wheel tick): retransmissions are due at +1 s, then 2 s
        // and 4 s after the previous one; the entry expires 8 s after the last.
        let c = bench.open(now: 99_999)
        #expect(bench.dp.localPortUsage.inUse == 1)
        let steps: [(UInt64, UInt64)] = [
            (100_999, 0), (101_000, 1), (102_999, 1), (103_000, 2), (106_999, 2), (107_000, 3), (114_999, 3),
        ]
        for (now, count) in steps {
            bench.dp.advance(now: now)
            #expect(bench.dp.counters[.synProxyServerSynRetransmits] == count, "at \(now)")
            // Exactly one SYN at each due time, none in between.
            #expect(bench.dp.pendingOutputCount == (now % 1000 == 0 ? 1 : 0), "at \(now)")
            if bench.dp.pendingOutputCount > 0 {
                let (again, side) = bench.pending(0)
                #expect(side == .internal)
                // The same SYN each time: same ISN, options and TSval (PAWS at the RS).
                #expect(again == c.syn)
                bench.dp.clearPendingOutput()
            }
            #expect(bench.dp.connectionCount == 1)
        }
        bench.dp.advance(now: 115_000)
        #expect(bench.dp.connectionCount == 0)
        #expect(bench.dp.pendingOutputCount == 0)
        #expect(bench.dp.synProxyHeldSegments == 0)
        #expect(bench.dp.localPortUsage.inUse == 0)
        #expect(bench.dp.counters[.synProxyServerTimeouts] == 1)
        #expect(bench.dp.counters[.connectionsExpired] == 1)
        let server = c.real == Topology.rs1 ? 0 : 1
        #expect(bench.dp.synProxyServerTimeouts(service: 0, server: server) == 1)
        #expect(bench.dp.synProxyServerTimeouts(service: 0, server: 1 - server) == 0)
        // A late SYN-ACK finds nothing.
        let late = bench.dp.run(
            bench.fromServer(c, seq: 1, ack: c.isn &+ 1, flags: TCPFlag.syn | TCPFlag.ack), from: .internal,
            now: 115_001, network: bench.network)
        #expect(late.verdict == .drop(.noConnection))
    }

    @Test func retriesAreConfigurable() {
        var bench = SynProxyBench(settings: SynProxyConfiguration(retries: 1, retransmitMilliseconds: 500))
        _ = bench.open(now: 99_999)
        bench.dp.advance(now: 100_500)
        #expect(bench.dp.counters[.synProxyServerSynRetransmits] == 1)
        bench.dp.advance(now: 101_499)
        #expect(bench.dp.connectionCount == 1)
        bench.dp.advance(now: 101_500)
        #expect(bench.dp.connectionCount == 0)
        #expect(bench.dp.counters[.synProxyServerTimeouts] == 1)
    }

    @Test func refusingServerResetsTheClientAtExactlyCookiePlusOne() {
        var bench = SynProxyBench()
        let c = bench.open(now: 100_000, payload: Array("hello".utf8))
        // A RST that does not acknowledge our SYN is not acceptable (RFC 9293 SYN-SENT).
        let stray = bench.dp.run(
            bench.fromServer(c, seq: 0, ack: c.isn &+ 7, flags: TCPFlag.rst | TCPFlag.ack), from: .internal,
            now: 100_002, network: bench.network)
        #expect(stray.verdict == .drop(.invalidState))
        let rst = bench.dp.run(
            bench.fromServer(c, seq: 0, ack: c.isn &+ 1, flags: TCPFlag.rst | TCPFlag.ack), from: .internal,
            now: 100_003, network: bench.network)
        #expect(rst.verdict == .transmit(.external))
        #expect(FrameChecker.problem(rst.frame) == nil)
        #expect(rst.frame.mac(0) == Topology.clientMAC.value)
        #expect(rst.info.source == Topology.vip && rst.info.destination == Topology.client)
        #expect(rst.info.sourcePort == 80 && rst.info.destinationPort == 40000)
        #expect(rst.info.tcpFlags == TCPFlag.rst | TCPFlag.ack)
        #expect(rst.frame.u32(rst.info.l4Offset + 4) == c.cookie &+ 1)
        #expect(rst.frame.u32(rst.info.l4Offset + 8) == 1_000_006)
        #expect(rst.frame.u16(rst.info.l4Offset + 14) == 0)
        #expect(rst.info.payloadLength == 0)
        #expect(bench.dp.counters[.synProxyServerRefused] == 1)
        #expect(bench.dp.synProxyHeldSegments == 0)
        // The entry lingers in CLOSE; the client's late segments are not forwarded.
        let late = bench.dp.run(bench.ack(cookie: c.cookie), from: .external, now: 100_004, network: bench.network)
        #expect(late.verdict == .drop(.invalidState))
        bench.dp.advance(now: 103_100)
        #expect(bench.dp.connectionCount == 0)
        #expect(bench.dp.localPortUsage.inUse == 0)
    }

    @Test func segmentsWhilePendingAreHeldBoundedAndReplayedInOrder() {
        var bench = SynProxyBench()
        let c = bench.open(now: 100_000)
        let ack = bench.ack(cookie: c.cookie, tsecr: 100_000)
        // A retransmitted ACK is a copy of a held segment.
        for _ in 0..<3 {
            #expect(
                bench.dp.run(ack, from: .external, now: 100_002, network: bench.network).verdict
                    == .drop(.heldDuplicate))
        }
        // Data segments are held up to the bound (4 with the first ACK).
        var verdicts: [Verdict] = []
        for i in 0..<4 {
            let data = bench.ack(
                cookie: c.cookie, seq: 1_000_001 &+ UInt32(i * 10), flags: TCPFlag.ack | TCPFlag.psh, tsval: 5011,
                tsecr: 100_000, payload: Array(repeating: UInt8(0x41 + i), count: 10))
            verdicts.append(bench.dp.run(data, from: .external, now: 100_003, network: bench.network).verdict)
        }
        #expect(
            verdicts == [.drop(.heldForReplay), .drop(.heldForReplay), .drop(.heldForReplay), .drop(.holdQueueFull)])
        #expect(bench.dp.synProxyHeldSegments == 4)
        // Non-ACKs and segments that do not acknowledge our SYN-ACK are never held.
        let syn = bench.dp.run(bench.syn(), from: .external, now: 100_004, network: bench.network)
        #expect(syn.verdict == .drop(.invalidState))
        let blind = bench.fromClient()
            .tcp(sport: 40000, dport: 80, seq: 1_000_001, ack: c.cookie &+ 2, flags: TCPFlag.ack).build()
        #expect(
            bench.dp.run(blind, from: .external, now: 100_004, network: bench.network).verdict
                == .drop(.invalidState))
        #expect(bench.dp.pendingOutputCount == 0)

        #expect(bench.accept(c, now: 100_010) == .transmit(.internal))
        #expect(bench.dp.pendingOutputCount == 3)
        for i in 0..<3 {
            let (frame, side) = bench.pending(i)
            let info = bench.parse(frame)
            #expect(side == .internal)
            #expect(FrameChecker.problem(frame) == nil)
            #expect(info.destination == c.real && info.sourcePort == c.localPort)
            #expect(frame.u32(info.l4Offset + 4) == c.isn &+ 1 &+ UInt32(i * 10))
            #expect(frame.u32(info.l4Offset + 8) == 777_001)
            #expect(frame[info.payloadOffset] == UInt8(0x41 + i))
        }
        #expect(bench.dp.counters[.synProxySegmentsReplayed] == 4)
        #expect(bench.dp.counters[.synProxySegmentsHeld] == 4)
        #expect(bench.dp.synProxyHeldSegments == 0)
    }

    @Test func clientAbortWhilePendingResetsTheServerAndFreesTheEntry() {
        var bench = SynProxyBench()
        let c = bench.open(now: 100_000)
        let far = bench.fromClient()
            .tcp(sport: 40000, dport: 80, seq: 9_000_000, flags: TCPFlag.rst).build()
        #expect(
            bench.dp.run(far, from: .external, now: 100_002, network: bench.network).verdict
                == .drop(.rstOutOfWindow))
        let rst = bench.fromClient().tcp(sport: 40000, dport: 80, seq: 1_000_001, flags: TCPFlag.rst).build()
        let out = bench.dp.run(rst, from: .external, now: 100_003, network: bench.network)
        #expect(out.verdict == .transmit(.internal))
        #expect(FrameChecker.problem(out.frame) == nil)
        #expect(out.info.source == c.local && out.info.destination == c.real)
        #expect(out.info.sourcePort == c.localPort && out.info.destinationPort == 8080)
        #expect(out.info.tcpFlags == TCPFlag.rst)
        #expect(out.frame.u32(out.info.l4Offset + 4) == c.isn &+ 1)
        #expect(bench.dp.connectionCount == 0)
        #expect(bench.dp.synProxyHeldSegments == 0)
        #expect(bench.dp.counters[.synProxyClientAborts] == 1)
    }

    @Test func unresolvedServerNextHopIsRetriedByTheTimer() {
        var bench = SynProxyBench()
        let unresolved = Topology.network(resolvedRouter: false)
        let synAck = bench.dp.run(bench.syn(), from: .external, now: 100_000, network: unresolved)
        #expect(synAck.verdict == .transmit(.external))
        let cookie = synAck.frame.u32(synAck.info.l4Offset + 4)
        let held = bench.dp.run(
            bench.ack(cookie: cookie, tsecr: 100_000), from: .external, now: 100_001, network: unresolved)
        #expect(held.verdict == .drop(.heldForReplay))
        #expect(bench.dp.connectionCount == 1)
        #expect(bench.dp.pendingOutputCount == 0)
        #expect(bench.dp.pendingResolutionCount == 1)
        #expect(bench.dp.pendingResolution(0).address == Topology.router)
        bench.dp.clearPendingResolutions()
        // The kernel resolved the router; the first retransmission goes out.
        bench.dp.advance(now: 101_100, network: bench.network)
        #expect(bench.dp.pendingOutputCount == 1)
        #expect(FrameChecker.problem(bench.pending(0).frame) == nil)
        #expect(bench.pending(0).frame.mac(0) == Topology.routerMAC.value)
        #expect(bench.dp.counters[.synProxyServerSynRetransmits] == 1)
    }

    @Test func theRetryRoutesAsTheSYNDidUnderSourceRules() {
        // The real servers' route only in table 100, which an ip rule gives the LIPs' packets: the
        // timer's retry must look the server up with the SYN's LIP, or it finds no route in main.
        func network(resolvedRouter: Bool) -> NetworkView {
            let base = Topology.network(resolvedRouter: resolvedRouter)
            let servers = IPAddress("10.30.0.0")!
            let routes = base.routes.map { route in
                var moved = route
                if route.prefix == servers { moved.table = 100 }
                return moved
            }
            return NetworkView(
                interfaces: base.interfaces, routes: routes, neighbours: base.neighbours,
                generation: resolvedRouter ? 2 : 1,
                rules: [
                    RoutingRule(
                        priority: 100, action: .lookup(table: 100), source: IPAddress("10.20.0.0")!, sourceLength: 24),
                    RoutingRule(priority: 32766, action: .lookup(table: 254)),
                ])
        }
        var bench = SynProxyBench()
        let unresolved = network(resolvedRouter: false)
        let synAck = bench.dp.run(bench.syn(), from: .external, now: 100_000, network: unresolved)
        let cookie = synAck.frame.u32(synAck.info.l4Offset + 4)
        let held = bench.dp.run(
            bench.ack(cookie: cookie, tsecr: 100_000), from: .external, now: 100_001, network: unresolved)
        #expect(held.verdict == .drop(.heldForReplay))
        #expect(bench.dp.pendingResolutionCount == 1 && bench.dp.pendingResolution(0).address == Topology.router)
        bench.dp.clearPendingResolutions()
        bench.dp.advance(now: 101_100, network: network(resolvedRouter: true))
        #expect(bench.dp.pendingOutputCount == 1)
        #expect(bench.pending(0).frame.mac(0) == Topology.routerMAC.value)
        #expect(bench.dp.counters[.synProxyServerSynRetransmits] == 1)
    }

    @Test func validHandshakeOnATimeWaitEntryStartsAFreshConnection() {
        var bench = SynProxyBench()
        let c = bench.open(now: 100_000)
        #expect(bench.accept(c, now: 100_001) == .transmit(.internal))
        let delta = c.cookie &- 777_000
        func client(_ flags: UInt8, seq: UInt32, ack: UInt32) -> [UInt8] {
            bench.fromClient().tcp(sport: 40000, dport: 80, seq: seq, ack: ack, flags: flags).build()
        }
        // Client closes first, RS answers with FIN, client acknowledges: TIME_WAIT.
        let fin = bench.dp.run(
            client(TCPFlag.fin | TCPFlag.ack, seq: 1_000_001, ack: 777_001 &+ delta), from: .external, now: 100_002,
            network: bench.network)
        #expect(fin.verdict == .transmit(.internal))
        let serverFin = bench.dp.run(
            bench.fromServer(c, seq: 777_001, ack: c.isn &+ 2, flags: TCPFlag.fin | TCPFlag.ack), from: .internal,
            now: 100_003, network: bench.network)
        #expect(serverFin.verdict == .transmit(.external))
        _ = bench.dp.run(
            client(TCPFlag.ack, seq: 1_000_002, ack: 777_002 &+ delta), from: .external, now: 100_004,
            network: bench.network)
        #expect(bench.dp.connectionCount == 1)
        // A new handshake on the same tuple: cookie SYN-ACK first (the stale ACK path is checked too).
        bench.clientISN = 2_000_000
        let synAck = bench.dp.run(bench.syn(), from: .external, now: 100_010, network: bench.network)
        #expect(synAck.verdict == .transmit(.external))
        #expect(bench.dp.connectionCount == 0)
        let cookie = synAck.frame.u32(synAck.info.l4Offset + 4)
        let held = bench.dp.run(
            bench.ack(cookie: cookie, tsecr: 100_010), from: .external, now: 100_011, network: bench.network)
        #expect(held.verdict == .drop(.heldForReplay))
        let syn = bench.parse(bench.pending(0).frame)
        let isn = bench.pending(0).frame.u32(syn.l4Offset + 4)
        #expect(isn != c.isn &+ 1_000_000)
        #expect(bench.dp.counters[.connectionsCreated] == 2)
    }

    @Test func validCookieACKOnAClosingEntryReplacesIt() {
        var bench = SynProxyBench()
        let c = bench.open(now: 100_000)
        #expect(bench.accept(c, now: 100_001) == .transmit(.internal))
        // The RS resets: exactly at the client's last acknowledgement, so the entry closes.
        let rst = bench.dp.run(
            bench.fromServer(c, seq: 777_001, ack: c.isn &+ 1, flags: TCPFlag.rst | TCPFlag.ack), from: .internal,
            now: 100_002, network: bench.network)
        #expect(rst.verdict == .transmit(.external))
        #expect(rst.frame.u32(rst.info.l4Offset + 4) == c.cookie &+ 1)
        // The old connection's first ACK, late: its cookie verifies, but it belongs to the old entry.
        let straggler = bench.dp.run(
            bench.ack(cookie: c.cookie, tsecr: 100_000), from: .external, now: 100_002, network: bench.network)
        #expect(straggler.verdict == .transmit(.internal))
        #expect(bench.dp.counters[.synProxyReused] == 0)
        // The client opened a new connection meanwhile (its SYN-ACK came from the cookie, stateless).
        bench.clientISN = 3_000_000
        var fresh = SynProxyBench()
        fresh.clientISN = 3_000_000
        let synAck = fresh.dp.run(fresh.syn(), from: .external, now: 100_003, network: fresh.network)
        let cookie = synAck.frame.u32(synAck.info.l4Offset + 4)
        // Same secret, same tuple: the cookie verifies in `bench` too.
        let ack = bench.dp.run(
            bench.ack(cookie: cookie, tsecr: 100_003), from: .external, now: 100_004, network: bench.network)
        #expect(ack.verdict == .drop(.heldForReplay))
        #expect(bench.dp.counters[.synProxyReused] == 1)
        #expect(bench.dp.connectionCount == 1)
        #expect(bench.dp.pendingOutputCount == 1)
        #expect(bench.dp.counters[.connectionsCreated] == 2)
    }

    @Test func onlyASynAckForOurSYNCompletesTheServerHandshake() {
        var bench = SynProxyBench()
        let c = bench.open(now: 100_000)
        let wrongAck = bench.fromServer(c, seq: 777_000, ack: c.isn &+ 2, flags: TCPFlag.syn | TCPFlag.ack)
        #expect(
            bench.dp.run(wrongAck, from: .internal, now: 100_002, network: bench.network).verdict
                == .drop(.invalidState))
        let data = bench.fromServer(c, seq: 777_001, ack: c.isn &+ 1, flags: TCPFlag.ack, payload: [1])
        #expect(
            bench.dp.run(data, from: .internal, now: 100_002, network: bench.network).verdict
                == .drop(.invalidState))
        #expect(bench.dp.synProxyHeldSegments == 1)
        #expect(bench.accept(c, now: 100_003) == .transmit(.internal))
        // Had the replayed ACK been lost, the RS repeats its SYN-ACK: it reaches the client translated
        // (seq = cookie, ack = client ISN + 1), whose challenge ACK then completes the RS handshake.
        let again = bench.dp.run(
            bench.fromServer(
                c, seq: 777_000, ack: c.isn &+ 1, flags: TCPFlag.syn | TCPFlag.ack, window: 4000,
                options: [.mss(1460), .sackPermitted, .timestamps(val: 5, ecr: 100_001), .nop, .windowScale(7)]),
            from: .internal, now: 100_004, network: bench.network)
        #expect(again.verdict == .transmit(.external))
        #expect(FrameChecker.problem(again.frame) == nil)
        #expect(again.info.tcpFlags == TCPFlag.syn | TCPFlag.ack)
        #expect(again.frame.u32(again.info.l4Offset + 4) == c.cookie)
        #expect(again.frame.u32(again.info.l4Offset + 8) == 1_000_001)
        // A SYN's window is never scaled (RFC 7323 §2.2).
        #expect(again.frame.u16(again.info.l4Offset + 14) == 4000)
    }
}
