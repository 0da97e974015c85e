// SYNPROXY through the data plane, frame by frame (docs/protocol.md §2): the cookie SYN-ACK, the RS SYN
// in the output queue, the held ACK replayed when the RS answers, and established traffic both
// ways, for every combination of window scaling, SACK and timestamps on the client's SYN. Every
// output frame is parsed back, compared field by field and checked with FrameChecker (incremental
// checksum updates must equal a full recomputation).

import SluiceCore
import SluicePacket
import SluiceTestKit
import Testing

/// What the client offers in its SYN.
struct ClientOffer: Sendable, CustomTestStringConvertible {
    var windowScale: UInt8?
    var sack: Bool
    var timestamps: Bool

    var testDescription: String {
        "ws \(windowScale.map(String.init) ?? "-") sack \(sack) ts \(timestamps)"
    }

    static let all: [ClientOffer] = [nil, 2].flatMap { ws in
        [false, true].flatMap { sack in [false, true].map { ClientOffer(windowScale: ws, sack: sack, timestamps: $0) } }
    }
}

/// A client, a SYN-proxied data plane and the frames between them.
struct SynProxyBench: ~Copyable {
    var dp: Dataplane
    var network = Topology.network()
    var offer: ClientOffer
    var clientPort: UInt16 = 40000
    var clientISN: UInt32 = 1_000_000
    var clientTSval: UInt32 = 5000
    var v6 = false

    init(
        offer: ClientOffer = ClientOffer(windowScale: 2, sack: true, timestamps: true),
        settings: SynProxyConfiguration = SynProxyConfiguration(), v6: Bool = false
    ) {
        var configuration = Topology.configuration()
        for i in configuration.services.indices where configuration.services[i].transport == .tcp {
            configuration.services[i].synProxy = true
        }
        configuration.synProxy = settings
        dp = Topology.dataplane(configuration)
        self.offer = offer
        self.v6 = v6
    }

    var client: IPAddress { v6 ? Topology.client6 : Topology.client }
    var vip: IPAddress { v6 ? Topology.vip6 : Topology.vip }

    func fromClient() -> PacketBuilder {
        let b = PacketBuilder().ethernet(src: Topology.clientMAC, dst: Topology.extMAC)
        return v6 ? b.ipv6(src: client, dst: vip) : b.ipv4(src: client, dst: vip)
    }

    func fromServer(_ server: IPAddress, to local: IPAddress) -> PacketBuilder {
        let b = PacketBuilder().ethernet(src: Topology.routerMAC, dst: Topology.intMAC)
        return v6 ? b.ipv6(src: server, dst: local) : b.ipv4(src: server, dst: local)
    }

    func syn(seq: UInt32? = nil) -> [UInt8] {
        var options: [TCPOptionSpec] = [.mss(1460)]
        if offer.sack { options.append(.sackPermitted) }
        if offer.timestamps { options.append(.timestamps(val: clientTSval, ecr: 0)) }
        if let ws = offer.windowScale { options += [.nop, .windowScale(ws)] }
        return fromClient()
            .tcp(
                sport: clientPort, dport: 80, seq: seq ?? clientISN, flags: TCPFlag.syn, window: 29200, options: options
            )
            .build()
    }

    /// A client segment acknowledging our SYN-ACK (cookie + 1).
    func ack(
        cookie: UInt32, seq: UInt32? = nil, flags: UInt8 = TCPFlag.ack, window: UInt16 = 1000, tsval: UInt32 = 5010,
        tsecr: UInt32 = 0, payload: [UInt8] = []
    ) -> [UInt8] {
        let options: [TCPOptionSpec] = offer.timestamps ? [.nop, .nop, .timestamps(val: tsval, ecr: tsecr)] : []
        return fromClient()
            .tcp(
                sport: clientPort, dport: 80, seq: seq ?? clientISN &+ 1, ack: cookie &+ 1, flags: flags,
                window: window, options: options, payload: payload
            ).build()
    }

    /// Pending output `index` as bytes and side.
    func pending(_ index: Int) -> (frame: [UInt8], side: Side) {
        dp.withPendingOutput(index) { span, side in
            var bytes: [UInt8] = []
            for i in 0..<span.count { bytes.append(span[i]) }
            return (bytes, side)
        }
    }

    func parse(_ frame: [UInt8]) -> PacketInfo {
        var info = PacketInfo()
        _ = PacketParser.parse(frame.span, length: frame.count, into: &info)
        return info
    }
}

extension Array where Element == UInt8 {
    /// The TCP options of a parsed frame as (mss, ws, sackPermitted, tsval, tsecr).
    func options(_ info: PacketInfo) -> (mss: UInt16?, ws: UInt8?, sack: Bool, ts: (UInt32, UInt32)?) {
        let o = info.tcpOptions
        return (
            o.mssOffset >= 0 ? u16(o.mssOffset) : nil, o.windowScaleOffset >= 0 ? self[o.windowScaleOffset] : nil,
            o.sackPermittedOffset >= 0,
            o.timestampOffset >= 0 ? (u32(o.timestampOffset), u32(o.timestampOffset + 4)) : nil
        )
    }
}

@Suite struct SynProxyHandshakeTests {
    @Test(arguments: ClientOffer.all) func fullHandshakeAndTrafficBothWays(_ offer: ClientOffer) {
        var bench = SynProxyBench(offer: offer)
        let t0: UInt64 = 100_000

        // S1: the SYN comes back as the cookie SYN-ACK, and nothing is remembered.
        let synAck = bench.dp.run(bench.syn(), from: .external, now: t0, network: bench.network)
        #expect(synAck.verdict == .transmit(.external))
        #expect(FrameChecker.problem(synAck.frame) == nil)
        #expect(synAck.frame.mac(0) == Topology.clientMAC.value)
        #expect(synAck.frame.mac(6) == Topology.extMAC.value)
        #expect(synAck.info.source == Topology.vip && synAck.info.destination == Topology.client)
        #expect(synAck.info.sourcePort == 80 && synAck.info.destinationPort == 40000)
        #expect(synAck.frame[14 + 8] == 64)
        let l4 = synAck.info.l4Offset
        let cookie = synAck.frame.u32(l4 + 4)
        #expect(synAck.frame.u32(l4 + 8) == 1_000_001)
        #expect(synAck.info.tcpFlags == TCPFlag.syn | TCPFlag.ack)
        #expect(synAck.frame.u16(l4 + 14) == 29200)
        let synAckOptions = synAck.frame.options(synAck.info)
        #expect(synAckOptions.mss == 1452)
        #expect(synAckOptions.ws == (offer.windowScale == nil ? nil : 7))
        #expect(synAckOptions.sack == offer.sack)
        #expect(synAckOptions.ts?.0 == (offer.timestamps ? UInt32(t0) : nil))
        #expect(synAckOptions.ts?.1 == (offer.timestamps ? 5000 : nil))
        #expect(bench.dp.connectionCount == 0)
        #expect(bench.dp.localPortUsage.inUse == 0)
        #expect(bench.dp.pendingOutputCount == 0)
        #expect(bench.dp.counters[.synProxySynsReceived] == 1)
        #expect(bench.dp.counters[.synProxyCookiesSent] == 1)

        // S2: the ACK is held, a connection waits in SYN_SENT, and the RS SYN is queued.
        let ourTSval = UInt32(t0)
        let held = bench.dp.run(
            bench.ack(cookie: cookie, tsecr: ourTSval), from: .external, now: t0 + 50, network: bench.network)
        #expect(held.verdict == .drop(.heldForReplay))
        #expect(bench.dp.connectionCount == 1)
        #expect(bench.dp.synProxyHeldSegments == 1)
        #expect(bench.dp.pendingOutputCount == 1)
        let (rsSYN, rsSYNSide) = bench.pending(0)
        bench.dp.clearPendingOutput()
        #expect(rsSYNSide == .internal)
        #expect(FrameChecker.problem(rsSYN) == nil)
        let syn = bench.parse(rsSYN)
        #expect(rsSYN.mac(0) == Topology.routerMAC.value && rsSYN.mac(6) == Topology.intMAC.value)
        #expect(Topology.lips.contains(syn.source))
        #expect(syn.destination == Topology.rs1 || syn.destination == Topology.rs2)
        #expect(syn.destinationPort == 8080 && syn.sourcePort >= 1025)
        #expect(rsSYN[14 + 8] == 64)
        #expect(rsSYN.u16(14 + 6) & 0x4000 != 0)
        #expect(syn.tcpFlags == TCPFlag.syn)
        let isn = rsSYN.u32(syn.l4Offset + 4)
        #expect(isn != 1_000_000)
        #expect(rsSYN.u32(syn.l4Offset + 8) == 0)
        #expect(rsSYN.u16(syn.l4Offset + 14) == (offer.windowScale == nil ? 1000 : 4000))
        let synOptions = rsSYN.options(syn)
        #expect(synOptions.mss == 1460)
        #expect(synOptions.ws == offer.windowScale)
        #expect(synOptions.sack == offer.sack)
        // TSval: the client's mapped onto the gateway clock (its value at the ACK); TSecr 0.
        #expect(synOptions.ts?.0 == (offer.timestamps ? UInt32(t0 + 50) : nil))
        #expect(synOptions.ts?.1 == (offer.timestamps ? 0 : nil))
        #expect(bench.dp.counters[.synProxyAcksValid] == 1)
        #expect(bench.dp.counters[.synProxyServerSyns] == 1)
        #expect(bench.dp.counters[.heldForReplay] == 1)

        // S4: the RS SYN-ACK is consumed and the held ACK goes out translated in its place.
        let rs = syn.destination
        let lip = syn.source
        let lport = syn.sourcePort
        var rsOptions: [TCPOptionSpec] = [.mss(1400)]
        if offer.sack { rsOptions.append(.sackPermitted) }
        if offer.timestamps { rsOptions.append(.timestamps(val: 42_000, ecr: UInt32(t0 + 50))) }
        if offer.windowScale != nil { rsOptions += [.nop, .windowScale(9)] }
        let rsSynAck = bench.fromServer(rs, to: lip)
            .tcp(
                sport: 8080, dport: lport, seq: 777_000, ack: isn &+ 1, flags: TCPFlag.syn | TCPFlag.ack,
                window: 65535, options: rsOptions
            ).build()
        let replay = bench.dp.run(rsSynAck, from: .internal, now: t0 + 60, network: bench.network)
        #expect(replay.verdict == .transmit(.internal))
        #expect(FrameChecker.problem(replay.frame) == nil)
        #expect(replay.frame.mac(0) == Topology.routerMAC.value)
        #expect(replay.info.source == lip && replay.info.sourcePort == lport)
        #expect(replay.info.destination == rs && replay.info.destinationPort == 8080)
        #expect(replay.info.tcpFlags == TCPFlag.ack)
        #expect(replay.frame.u32(replay.info.l4Offset + 4) == isn &+ 1)
        #expect(replay.frame.u32(replay.info.l4Offset + 8) == 777_001)
        // The RS scales the client's windows with the client's own shift: unchanged.
        #expect(replay.frame.u16(replay.info.l4Offset + 14) == 1000)
        #expect(replay.frame[14 + 8] == 63)
        if offer.timestamps {
            // TSval mapped as in the SYN; TSecr = the RS's own SYN-ACK TSval.
            #expect(replay.frame.options(replay.info).ts?.0 == UInt32(t0 + 50))
            #expect(replay.frame.options(replay.info).ts?.1 == 42_000)
        }
        #expect(bench.dp.pendingOutputCount == 0)
        #expect(bench.dp.synProxyHeldSegments == 0)
        #expect(bench.dp.counters[.synProxyHandshakesCompleted] == 1)
        #expect(bench.dp.counters[.synProxySegmentsReplayed] == 1)

        // Client data: seq + δfn, ack − δsp, TSval mapped, TSecr back to the RS clock, SACK − δsp.
        let synAckTSval = ourTSval
        let clientSack: [TCPOptionSpec] = offer.sack ? [.sack([(cookie &+ 101, cookie &+ 201)])] : []
        let clientTS: [TCPOptionSpec] =
            offer.timestamps ? [.nop, .nop, .timestamps(val: 5020, ecr: synAckTSval &+ 10)] : []
        let data = bench.fromClient()
            .tcp(
                sport: 40000, dport: 80, seq: 1_000_001, ack: cookie &+ 1, flags: TCPFlag.ack | TCPFlag.psh,
                window: 900, options: clientTS + (offer.sack ? [.nop, .nop] : []) + clientSack,
                payload: Array("GET".utf8)
            ).build()
        let inbound = bench.dp.run(data, from: .external, now: t0 + 70, network: bench.network)
        #expect(inbound.verdict == .transmit(.internal))
        #expect(FrameChecker.problem(inbound.frame) == nil)
        let il4 = inbound.info.l4Offset
        #expect(inbound.frame.u32(il4 + 4) == isn &+ 1)
        #expect(inbound.frame.u32(il4 + 8) == 777_001)
        #expect(inbound.frame.u16(il4 + 14) == 900)
        if offer.timestamps {
            #expect(inbound.frame.options(inbound.info).ts?.0 == UInt32(t0 + 50) + 10)
            #expect(inbound.frame.options(inbound.info).ts?.1 == 42_010)
        }
        if offer.sack {
            #expect(inbound.frame.u32(inbound.info.tcpOptions.sackOffset) == 777_101)
            #expect(inbound.frame.u32(inbound.info.tcpOptions.sackOffset + 4) == 777_201)
        }
        #expect(Array(inbound.frame[inbound.info.payloadOffset...]) == Array("GET".utf8))

        // RS data: seq + δsp, ack − δfn, both SACK blocks − δfn, TSval to our clock, TSecr back to the
        // client's, window rescaled from the RS's shift (9) to ours (7).
        let serverSack: [TCPOptionSpec] =
            offer.sack ? [.nop, .nop, .sack([(isn &+ 10, isn &+ 20), (isn &+ 30, isn &+ 40)])] : []
        let serverTS: [TCPOptionSpec] =
            offer.timestamps ? [.nop, .nop, .timestamps(val: 42_020, ecr: UInt32(t0 + 60))] : []
        let reply = bench.fromServer(rs, to: lip)
            .tcp(
                sport: 8080, dport: lport, seq: 777_001, ack: isn &+ 4, flags: TCPFlag.ack | TCPFlag.psh, window: 500,
                options: serverTS + serverSack, payload: Array("HTTP/1.0 200".utf8)
            ).build()
        let outbound = bench.dp.run(reply, from: .internal, now: t0 + 80, network: bench.network)
        #expect(outbound.verdict == .transmit(.external))
        #expect(FrameChecker.problem(outbound.frame) == nil)
        let ol4 = outbound.info.l4Offset
        #expect(outbound.info.source == Topology.vip && outbound.info.destination == Topology.client)
        #expect(outbound.info.sourcePort == 80 && outbound.info.destinationPort == 40000)
        #expect(outbound.frame.mac(0) == Topology.clientMAC.value)
        #expect(outbound.frame.u32(ol4 + 4) == cookie &+ 1)
        #expect(outbound.frame.u32(ol4 + 8) == 1_000_004)
        #expect(outbound.frame.u16(ol4 + 14) == (offer.windowScale == nil ? 500 : 2000))
        if offer.timestamps {
            #expect(outbound.frame.options(outbound.info).ts?.0 == synAckTSval &+ 20)
            #expect(outbound.frame.options(outbound.info).ts?.1 == 5020)
        }
        if offer.sack {
            let s = outbound.info.tcpOptions.sackOffset
            #expect(outbound.info.tcpOptions.sackBlockCount == 2)
            #expect(outbound.frame.u32(s) == 1_000_010 && outbound.frame.u32(s + 4) == 1_000_020)
            #expect(outbound.frame.u32(s + 8) == 1_000_030 && outbound.frame.u32(s + 12) == 1_000_040)
        }
        #expect(bench.dp.counters[.forwardedInbound] == 2)
        #expect(bench.dp.counters[.forwardedOutbound] == 1)
        #expect(bench.dp.counters[.connectionsCreated] == 1)
    }

    @Test func fullHandshakeIPv6() {
        var bench = SynProxyBench(v6: true)
        let synAck = bench.dp.run(bench.syn(), from: .external, now: 100_000, network: bench.network)
        #expect(synAck.verdict == .transmit(.external))
        #expect(FrameChecker.problem(synAck.frame) == nil)
        #expect(synAck.frame.options(synAck.info).mss == 1432)
        let cookie = synAck.frame.u32(synAck.info.l4Offset + 4)
        let held = bench.dp.run(
            bench.ack(cookie: cookie, tsecr: 100_000), from: .external, now: 100_010, network: bench.network)
        #expect(held.verdict == .drop(.heldForReplay))
        let syn = bench.parse(bench.pending(0).frame)
        #expect(FrameChecker.problem(bench.pending(0).frame) == nil)
        #expect(syn.source == Topology.lip6 && syn.destination == Topology.rs6)
        // The cookie keeps the largest IPv6 table entry not above 1460; the path to the client allows it.
        #expect(bench.pending(0).frame.options(syn).mss == 1440)
        let isn = bench.pending(0).frame.u32(syn.l4Offset + 4)
        bench.dp.clearPendingOutput()
        let rsSynAck = bench.fromServer(Topology.rs6, to: Topology.lip6)
            .tcp(
                sport: 8080, dport: syn.sourcePort, seq: 5, ack: isn &+ 1, flags: TCPFlag.syn | TCPFlag.ack,
                options: [.mss(1440), .sackPermitted, .timestamps(val: 9, ecr: 100_010), .nop, .windowScale(7)]
            ).build()
        let replay = bench.dp.run(rsSynAck, from: .internal, now: 100_020, network: bench.network)
        #expect(replay.verdict == .transmit(.internal))
        #expect(FrameChecker.problem(replay.frame) == nil)
        #expect(replay.frame.u32(replay.info.l4Offset + 4) == isn &+ 1)
        #expect(replay.frame.u32(replay.info.l4Offset + 8) == 6)
        let reply = bench.fromServer(Topology.rs6, to: Topology.lip6)
            .tcp(sport: 8080, dport: syn.sourcePort, seq: 6, ack: isn &+ 1, flags: TCPFlag.ack, window: 100)
            .build()
        let out = bench.dp.run(reply, from: .internal, now: 100_030, network: bench.network)
        #expect(out.verdict == .transmit(.external))
        #expect(FrameChecker.problem(out.frame) == nil)
        #expect(out.info.source == Topology.vip6 && out.info.destination == Topology.client6)
        #expect(out.frame.u32(out.info.l4Offset + 4) == cookie &+ 1)
    }

    @Test func dataInTheFirstACKIsHeldAndReplayed() {
        var bench = SynProxyBench()
        let synAck = bench.dp.run(bench.syn(), from: .external, now: 100_000, network: bench.network)
        let cookie = synAck.frame.u32(synAck.info.l4Offset + 4)
        let payload = Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
        let first = bench.ack(cookie: cookie, flags: TCPFlag.ack | TCPFlag.psh, tsecr: 100_000, payload: payload)
        #expect(
            bench.dp.run(first, from: .external, now: 100_005, network: bench.network).verdict
                == .drop(.heldForReplay))
        let syn = bench.parse(bench.pending(0).frame)
        let isn = bench.pending(0).frame.u32(syn.l4Offset + 4)
        bench.dp.clearPendingOutput()
        let rsSynAck = bench.fromServer(syn.destination, to: syn.source)
            .tcp(
                sport: 8080, dport: syn.sourcePort, seq: 10, ack: isn &+ 1, flags: TCPFlag.syn | TCPFlag.ack,
                options: [.mss(1460), .sackPermitted, .timestamps(val: 1, ecr: 100_005), .nop, .windowScale(2)]
            ).build()
        let replay = bench.dp.run(rsSynAck, from: .internal, now: 100_006, network: bench.network)
        #expect(replay.verdict == .transmit(.internal))
        #expect(FrameChecker.problem(replay.frame) == nil)
        #expect(replay.info.tcpFlags == TCPFlag.ack | TCPFlag.psh)
        #expect(replay.frame.u32(replay.info.l4Offset + 4) == isn &+ 1)
        #expect(replay.frame.u32(replay.info.l4Offset + 8) == 11)
        #expect(Array(replay.frame[replay.info.payloadOffset...]) == payload)
        // Same shifts on both legs: windows pass as they are both ways.
        let reply = bench.fromServer(syn.destination, to: syn.source)
            .tcp(
                sport: 8080, dport: syn.sourcePort, seq: 11, ack: isn &+ 1 &+ UInt32(payload.count),
                flags: TCPFlag.ack, window: 1234, options: [.nop, .nop, .timestamps(val: 2, ecr: 100_005)]
            ).build()
        let out = bench.dp.run(reply, from: .internal, now: 100_007, network: bench.network)
        #expect(out.frame.u16(out.info.l4Offset + 14) == (1234 &<< 2) &>> 7)
        #expect(out.frame.u32(out.info.l4Offset + 8) == 1_000_001 &+ UInt32(payload.count))
    }

    @Test func serverWithoutTimestampsOrScalingGetsNeither() {
        var bench = SynProxyBench()
        let synAck = bench.dp.run(bench.syn(), from: .external, now: 100_000, network: bench.network)
        let cookie = synAck.frame.u32(synAck.info.l4Offset + 4)
        _ = bench.dp.run(
            bench.ack(cookie: cookie, tsecr: 100_000), from: .external, now: 100_001, network: bench.network)
        let syn = bench.parse(bench.pending(0).frame)
        let isn = bench.pending(0).frame.u32(syn.l4Offset + 4)
        bench.dp.clearPendingOutput()
        let rsSynAck = bench.fromServer(syn.destination, to: syn.source)
            .tcp(
                sport: 8080, dport: syn.sourcePort, seq: 10, ack: isn &+ 1, flags: TCPFlag.syn | TCPFlag.ack,
                options: [.mss(1460)]
            ).build()
        let replay = bench.dp.run(rsSynAck, from: .internal, now: 100_002, network: bench.network)
        #expect(replay.verdict == .transmit(.internal))
        #expect(FrameChecker.problem(replay.frame) == nil)
        // The client's TS option is NOP-ed; its window (scaled by 4) is given to the RS in bytes.
        #expect(replay.info.tcpOptions.timestampOffset < 0)
        #expect(replay.frame.u16(replay.info.l4Offset + 14) == 4000)
        #expect(bench.dp.counters[.synProxyTimestampsStripped] == 1)
        // RS windows are bytes; the client expects units of 2^7.
        let reply = bench.fromServer(syn.destination, to: syn.source)
            .tcp(sport: 8080, dport: syn.sourcePort, seq: 11, ack: isn &+ 1, flags: TCPFlag.ack, window: 64_000)
            .build()
        let out = bench.dp.run(reply, from: .internal, now: 100_003, network: bench.network)
        #expect(FrameChecker.problem(out.frame) == nil)
        #expect(out.frame.u16(out.info.l4Offset + 14) == 500)
    }
}
