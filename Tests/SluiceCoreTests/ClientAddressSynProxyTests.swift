// TOA and PROXY protocol on SYN-proxied connections (issue: "works with and without syn_proxy"): the
// cookie SYN-ACK leaves room for TOA, the replayed first ACK completing the RS handshake carries the
// option or (send_on_connect) the header, data in the client's first ACK gets the header in front, and
// the RS's acknowledgements inside the header are mapped before SYNPROXY's own δsp.

import SluiceCore
import SluicePacket
import SluiceTestKit
import Testing

/// A SYN-proxied connection up to the RS SYN, with a client-address mode.
struct ProxiedClientAddress: ~Copyable {
    var bench: SynProxyBench
    var cookie: UInt32 = 0
    var legISN: UInt32 = 0
    var real = IPAddress(v4: 0)
    var local = IPAddress(v4: 0)
    var localPort: UInt16 = 0
    var synAckMSS: UInt16?
    let serverISN: UInt32 = 777_000

    init(_ mode: ClientAddressMode, options: ClientAddressOptions = ClientAddressOptions(), v6: Bool = false) {
        bench = SynProxyBench(offer: ClientOffer(windowScale: 2, sack: true, timestamps: true), v6: v6)
        var configuration = Topology.configuration(weights: [1, 0])
        for i in configuration.services.indices where configuration.services[i].transport == .tcp {
            configuration.services[i].synProxy = true
            configuration.services[i].clientAddress = mode
            configuration.services[i].clientAddressOptions = options
        }
        bench.dp = Topology.dataplane(configuration)
    }

    /// SYN → cookie SYN-ACK, then the client's ACK (with `payload`) → RS SYN.
    mutating func open(payload: [UInt8] = [], now: UInt64 = 100_000) {
        let synAck = bench.dp.run(bench.syn(), from: .external, now: now, network: bench.network)
        #expect(synAck.verdict == .transmit(.external))
        cookie = synAck.frame.u32(synAck.info.l4Offset + 4)
        synAckMSS = synAck.frame.options(synAck.info).mss
        let held = bench.dp.run(
            bench.ack(
                cookie: cookie, flags: payload.isEmpty ? TCPFlag.ack : TCPFlag.ack | TCPFlag.psh,
                tsecr: UInt32(now), payload: payload),
            from: .external, now: now + 10, network: bench.network)
        #expect(held.verdict == .drop(.heldForReplay))
        let (rsSYN, _) = bench.pending(0)
        bench.dp.clearPendingOutput()
        let syn = bench.parse(rsSYN)
        // The SYN to the real server carries nothing of the client's address.
        #expect(toaOption(rsSYN, syn) == nil)
        #expect(syn.payloadLength == 0)
        legISN = rsSYN.u32(syn.l4Offset + 4)
        real = syn.destination
        local = syn.source
        localPort = syn.sourcePort
    }

    /// The RS accepts: returns the replayed first client segment.
    mutating func accept(now: UInt64 = 100_020) -> Processed {
        let rsSynAck = bench.fromServer(real, to: local)
            .tcp(
                sport: 8080, dport: localPort, seq: serverISN, ack: legISN &+ 1, flags: TCPFlag.syn | TCPFlag.ack,
                options: [.mss(1460), .sackPermitted, .timestamps(val: 42, ecr: 1), .nop, .windowScale(7)]
            ).build()
        let replay = bench.dp.run(rsSynAck, from: .internal, now: now, network: bench.network)
        #expect(replay.verdict == .transmit(.internal))
        #expect(FrameChecker.problem(replay.frame) == nil)
        return replay
    }

    func fromServer(ack: UInt32, payload: [UInt8] = []) -> [UInt8] {
        bench.fromServer(real, to: local)
            .tcp(sport: 8080, dport: localPort, seq: serverISN &+ 1, ack: ack, payload: payload).build()
    }
}

@Suite struct ClientAddressSynProxyTests {
    let request = Array("GET / HTTP/1.0\r\n\r\n".utf8)

    @Test(arguments: [false, true]) func toaOnTheReplayedHandshakeAck(_ v6: Bool) {
        var c = ProxiedClientAddress(.toa, v6: v6)
        c.open()
        // The cookie SYN-ACK's MSS (synproxy default) leaves room for the option.
        let defaults = SynProxyConfiguration()
        let mss = c.synAckMSS
        #expect(mss == (v6 ? defaults.mssIPv6 : defaults.mss) - UInt16(v6 ? 20 : 8))
        let replay = c.accept()
        #expect(toaOption(replay.frame, replay.info) == expectedTOA(c.bench.client, port: c.bench.clientPort))
        #expect(replay.frame.u32(replay.info.l4Offset + 4) == c.legISN &+ 1)
        #expect(replay.info.tcpOptions.timestampOffset >= 0)
        // Client data still carries it; after the RS acknowledges data it stops.
        let data = c.bench.dp.run(
            c.bench.ack(cookie: c.cookie, flags: TCPFlag.ack | TCPFlag.psh, payload: request), from: .external,
            now: 100_030, network: c.bench.network)
        #expect(toaOption(data.frame, data.info) != nil)
        #expect(FrameChecker.problem(data.frame) == nil)
        _ = c.bench.dp.run(
            c.fromServer(ack: c.legISN &+ 1 &+ UInt32(request.count)), from: .internal, now: 100_040,
            network: c.bench.network)
        let more = c.bench.dp.run(
            c.bench.ack(cookie: c.cookie, seq: 1_000_001 &+ UInt32(request.count), payload: [1]), from: .external,
            now: 100_050, network: c.bench.network)
        #expect(toaOption(more.frame, more.info) == nil)
        #expect(c.bench.dp.counters[.toaInserted] == 2)
    }

    @Test func proxyV2InFrontOfDataInTheFirstAck() {
        var c = ProxiedClientAddress(.proxyProtocolV2)
        c.open(payload: request)
        let replay = c.accept()
        var header = ProxyProtocolHeader()
        let bytes = replay.payload
        #expect(ProxyProtocol.parse(bytes.span, from: 0, count: bytes.count, into: &header) == .v2(length: 28))
        #expect(header.source == Topology.client && header.sourcePort == 40000)
        #expect(header.destination == Topology.vip && header.destinationPort == 80)
        #expect(Array(bytes[28...]) == request)
        #expect(replay.frame.u32(replay.info.l4Offset + 4) == c.legISN &+ 1)

        // The RS acknowledges part of the header, then all of it and the request: the client sees
        // first nothing new, then its request acknowledged (δsp applied on top).
        let partial = c.bench.dp.run(
            c.fromServer(ack: c.legISN &+ 5), from: .internal, now: 100_030, network: c.bench.network)
        #expect(partial.verdict == .transmit(.external))
        #expect(partial.ack == 1_000_001)
        let whole = c.bench.dp.run(
            c.fromServer(ack: c.legISN &+ 1 &+ 28 &+ UInt32(request.count), payload: Array("ok".utf8)),
            from: .internal, now: 100_040, network: c.bench.network)
        #expect(whole.ack == 1_000_001 &+ UInt32(request.count))
        #expect(whole.seq == c.cookie &+ 1)
        #expect(FrameChecker.problem(whole.frame) == nil)
        let next = c.bench.dp.run(
            c.bench.ack(cookie: c.cookie, seq: 1_000_001 &+ UInt32(request.count), payload: [1]), from: .external,
            now: 100_050, network: c.bench.network)
        #expect(next.seq == c.legISN &+ 1 &+ 28 &+ UInt32(request.count))
    }

    @Test func sendOnConnectHeaderOnTheReplayedAck() {
        var c = ProxiedClientAddress(.proxyProtocolV1, options: ClientAddressOptions(sendOnConnect: true))
        c.open()
        let replay = c.accept()
        let header = Array("PROXY TCP4 198.51.100.2 203.0.113.10 40000 80\r\n".utf8)
        #expect(replay.payload == header)
        #expect(replay.frame.u32(replay.info.l4Offset + 4) == c.legISN &+ 1)
        c.bench.dp.advance(now: 100_020 + 250)
        #expect(c.bench.dp.pendingOutputCount == 1)
        c.bench.dp.clearPendingOutput()
        // Acknowledged with the server's greeting: no more resends.
        let greeting = c.bench.dp.run(
            c.fromServer(ack: c.legISN &+ 1 &+ UInt32(header.count), payload: Array("220 hi\r\n".utf8)),
            from: .internal, now: 100_300, network: c.bench.network)
        #expect(greeting.verdict == .transmit(.external))
        #expect(greeting.ack == 1_000_001)
        c.bench.dp.advance(now: 130_000)
        #expect(c.bench.dp.pendingOutputCount == 0)
        #expect(c.bench.dp.counters[.proxyHeaderResends] == 1)
    }
}
