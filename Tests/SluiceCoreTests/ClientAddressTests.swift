// TOA and PROXY protocol through the data plane (docs/protocol.md §6–8), frame by frame, in plain FULLNAT:
// where the option or header goes, the MSS room on the SYN-ACK, the sequence shift in both directions,
// the identical header on a retransmitted first segment, the separate header segment when the MTU leaves
// no room, send_on_connect with its resends, and client-sent headers. Every output is checked with
// FrameChecker (checksums recomputed from scratch). SYNPROXY's variant is in ClientAddressSynProxyTests.

import SluiceCore
import SluicePacket
import SluiceTestKit
import Testing

/// One FULLNAT connection through a data plane whose TCP services use a client-address mode.
struct ClientAddressBench: ~Copyable {
    var dp: Dataplane
    var network: NetworkView
    var v6: Bool
    let clientPort: UInt16 = 40000
    let clientISN: UInt32 = 1_000_000
    let serverISN: UInt32 = 777_000
    /// Filled by `handshake()`.
    var local = IPAddress(v4: 0)
    var localPort: UInt16 = 0
    var real = IPAddress(v4: 0)
    var legISN: UInt32 = 0
    var synAckMSS: UInt16?

    init(
        _ mode: ClientAddressMode, options: ClientAddressOptions = ClientAddressOptions(), v6: Bool = false,
        rsMTU: Int = 0, synProxy: Bool = false
    ) {
        var configuration = Topology.configuration(weights: [1, 0])
        for i in configuration.services.indices where configuration.services[i].transport == .tcp {
            configuration.services[i].clientAddress = mode
            configuration.services[i].clientAddressOptions = options
            configuration.services[i].synProxy = synProxy
        }
        dp = Topology.dataplane(configuration)
        network = Topology.network(rsMTU: rsMTU)
        self.v6 = v6
    }

    var client: IPAddress { v6 ? Topology.client6 : Topology.client }
    var vip: IPAddress { v6 ? Topology.vip6 : Topology.vip }

    func fromClient(
        seq: UInt32, ack: UInt32, flags: UInt8 = TCPFlag.ack, options: [TCPOptionSpec] = [], payload: [UInt8] = []
    ) -> [UInt8] {
        let b = PacketBuilder().ethernet(src: Topology.clientMAC, dst: Topology.extMAC)
        return (v6 ? b.ipv6(src: client, dst: vip) : b.ipv4(src: client, dst: vip))
            .tcp(sport: clientPort, dport: 80, seq: seq, ack: ack, flags: flags, options: options, payload: payload)
            .build()
    }

    func fromServer(
        seq: UInt32, ack: UInt32, flags: UInt8 = TCPFlag.ack, options: [TCPOptionSpec] = [], payload: [UInt8] = []
    ) -> [UInt8] {
        let b = PacketBuilder().ethernet(src: Topology.routerMAC, dst: Topology.intMAC)
        return (v6 ? b.ipv6(src: real, dst: local) : b.ipv4(src: real, dst: local))
            .tcp(sport: 8080, dport: localPort, seq: seq, ack: ack, flags: flags, options: options, payload: payload)
            .build()
    }

    /// SYN and SYN-ACK through the data plane; records the RS leg and the MSS the client was given.
    mutating func handshake(now: UInt64 = 1000) {
        let syn = fromClient(
            seq: clientISN, ack: 0, flags: TCPFlag.syn, options: [.mss(1460), .sackPermitted, .nop, .windowScale(7)])
        let out = dp.run(syn, from: .external, now: now, network: network)
        #expect(out.verdict == .transmit(.internal))
        #expect(FrameChecker.problem(out.frame) == nil)
        // The SYN itself never carries the client's address.
        #expect(toaOption(out.frame, out.info) == nil)
        local = out.info.source
        localPort = out.info.sourcePort
        real = out.info.destination
        legISN = out.frame.u32(out.info.l4Offset + 4)
        let synAck = fromServer(
            seq: serverISN, ack: legISN &+ 1, flags: TCPFlag.syn | TCPFlag.ack, options: [.mss(1460), .sackPermitted])
        let back = dp.run(synAck, from: .internal, now: now + 1, network: network)
        #expect(back.verdict == .transmit(.external))
        #expect(FrameChecker.problem(back.frame) == nil)
        #expect(back.frame.u32(back.info.l4Offset + 8) == clientISN &+ 1)
        synAckMSS = back.frame.options(back.info).mss
    }

    func pending(_ index: Int) -> (frame: [UInt8], side: Side) {
        dp.withPendingOutput(index) { span, side in
            var bytes: [UInt8] = []
            for i in 0..<span.count { bytes.append(span[i]) }
            return (bytes, side)
        }
    }
}

/// The bytes of the first option of `kind` in a parsed TCP segment (kind and length included).
func toaOption(_ frame: [UInt8], _ info: PacketInfo, kind: UInt8 = 254) -> [UInt8]? {
    var i = info.l4Offset + 20
    let end = info.l4Offset + info.tcpHeaderLength
    while i < end {
        let k = frame[i]
        if k == 0 { return nil }
        if k == 1 {
            i += 1
            continue
        }
        let n = Int(frame[i + 1])
        if k == kind { return Array(frame[i..<i + n]) }
        i += n
    }
    return nil
}

/// The TOA option Sluice should write for `address`:`port`.
func expectedTOA(_ address: IPAddress, port: UInt16, kind: UInt8 = 254) -> [UInt8] {
    var bytes = [kind, address.isV6 ? 20 : 8, UInt8(port >> 8), UInt8(port & 0xFF)]
    if address.isV6 {
        for shift in stride(from: 56, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: address.high >> shift))
        }
        for shift in stride(from: 56, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: address.low >> shift))
        }
    } else {
        for shift in stride(from: 24, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: address.v4 >> shift))
        }
    }
    return bytes
}

extension Processed {
    var payload: [UInt8] { Array(frame[info.payloadOffset..<info.payloadOffset + info.payloadLength]) }
    var seq: UInt32 { frame.u32(info.l4Offset + 4) }
    var ack: UInt32 { frame.u32(info.l4Offset + 8) }
}

@Suite struct ClientAddressTests {
    let request = Array("GET / HTTP/1.0\r\n\r\n".utf8)

    @Test(arguments: [false, true]) func toaOnEveryClientSegmentUntilDataIsAcknowledged(_ v6: Bool) {
        var bench = ClientAddressBench(.toa, v6: v6)
        bench.handshake()
        // The MSS given to the client leaves room for the option: 1460 − 8 (or − 20).
        let mss = bench.synAckMSS
        #expect(mss == UInt16(v6 ? 1440 - 20 : 1460 - 8))
        let toa = expectedTOA(bench.client, port: bench.clientPort)

        // The handshake-completing ACK.
        let ack = bench.dp.run(
            bench.fromClient(seq: bench.clientISN &+ 1, ack: bench.serverISN &+ 1), from: .external, now: 1002,
            network: bench.network)
        #expect(ack.verdict == .transmit(.internal))
        #expect(FrameChecker.problem(ack.frame) == nil)
        #expect(toaOption(ack.frame, ack.info) == toa)
        #expect(ack.seq == bench.legISN &+ 1)

        // Data with timestamps: the option joins them, the payload is intact.
        let data = bench.dp.run(
            bench.fromClient(
                seq: bench.clientISN &+ 1, ack: bench.serverISN &+ 1, flags: TCPFlag.ack | TCPFlag.psh,
                options: [.nop, .nop, .timestamps(val: 9, ecr: 0)], payload: request),
            from: .external, now: 1003, network: bench.network)
        #expect(FrameChecker.problem(data.frame) == nil)
        #expect(toaOption(data.frame, data.info) == toa)
        #expect(data.payload == request)
        #expect(data.info.tcpOptions.timestampOffset >= 0)

        // The server acknowledges only the SYN again (no client data yet): still inserting.
        _ = bench.dp.run(
            bench.fromServer(seq: bench.serverISN &+ 1, ack: bench.legISN &+ 1), from: .internal, now: 1004,
            network: bench.network)
        let again = bench.dp.run(
            bench.fromClient(
                seq: bench.clientISN &+ 1, ack: bench.serverISN &+ 1, flags: TCPFlag.ack | TCPFlag.psh,
                payload: request),
            from: .external, now: 1005, network: bench.network)
        #expect(toaOption(again.frame, again.info) == toa)

        // The server acknowledges the request: from now on the segments go without the option.
        let reply = bench.dp.run(
            bench.fromServer(
                seq: bench.serverISN &+ 1, ack: bench.legISN &+ 1 &+ UInt32(request.count), payload: Array("ok".utf8)
            ), from: .internal, now: 1006, network: bench.network)
        #expect(reply.verdict == .transmit(.external))
        #expect(reply.ack == bench.clientISN &+ 1 &+ UInt32(request.count))
        let fin = bench.dp.run(
            bench.fromClient(
                seq: bench.clientISN &+ 1 &+ UInt32(request.count), ack: bench.serverISN &+ 3,
                flags: TCPFlag.ack | TCPFlag.fin),
            from: .external, now: 1007, network: bench.network)
        #expect(FrameChecker.problem(fin.frame) == nil)
        #expect(toaOption(fin.frame, fin.info) == nil)
        #expect(bench.dp.counters[.toaInserted] == 3)
        #expect(bench.dp.counters[.toaNoRoom] == 0)
    }

    @Test func toaOnALoneDataAndFINSegmentAndClientOptionStripped() {
        var bench = ClientAddressBench(.toa)
        bench.handshake()
        // A client sends its own option 254 claiming another address, with data and FIN at once.
        let forged = TCPOptionSpec.raw(kind: 254, bytes: [0x00, 0x50, 6, 6, 6, 6])
        let out = bench.dp.run(
            bench.fromClient(
                seq: bench.clientISN &+ 1, ack: bench.serverISN &+ 1, flags: TCPFlag.ack | TCPFlag.fin | TCPFlag.psh,
                options: [forged], payload: request),
            from: .external, now: 1002, network: bench.network)
        #expect(out.verdict == .transmit(.internal))
        #expect(FrameChecker.problem(out.frame) == nil)
        #expect(toaOption(out.frame, out.info) == expectedTOA(bench.client, port: bench.clientPort))
        // Only one option of the kind is left: ours.
        var count = 0
        var i = out.info.l4Offset + 20
        while i < out.info.l4Offset + out.info.tcpHeaderLength {
            if out.frame[i] == 1 || out.frame[i] == 0 {
                i += 1
                continue
            }
            if out.frame[i] == 254 { count += 1 }
            i += Int(out.frame[i + 1])
        }
        #expect(count == 1)
        #expect(out.payload == request)
        #expect(bench.dp.counters[.toaStripped] == 1)
    }

    @Test func toaKindIsConfigurable() {
        var bench = ClientAddressBench(.toa, options: ClientAddressOptions(toaKind: 253))
        bench.handshake()
        let ack = bench.dp.run(
            bench.fromClient(seq: bench.clientISN &+ 1, ack: bench.serverISN &+ 1), from: .external, now: 1002,
            network: bench.network)
        #expect(
            toaOption(ack.frame, ack.info, kind: 253) == expectedTOA(bench.client, port: bench.clientPort, kind: 253))
        #expect(toaOption(ack.frame, ack.info) == nil)
    }

    @Test func toaPrunesSACKBlocksWhenTheHeaderIsFull() {
        var bench = ClientAddressBench(.toa, v6: true)
        bench.handshake()
        // 12 (TS) + 28 (3 SACK blocks) = 40 bytes of options: the 20-byte TOA needs two blocks gone.
        let blocks: [(UInt32, UInt32)] = [(10, 20), (30, 40), (50, 60)]
        let out = bench.dp.run(
            bench.fromClient(
                seq: bench.clientISN &+ 1, ack: bench.serverISN &+ 1,
                options: [.nop, .nop, .timestamps(val: 1, ecr: 0), .nop, .nop, .sack(blocks)]),
            from: .external, now: 1002, network: bench.network)
        #expect(FrameChecker.problem(out.frame) == nil)
        #expect(toaOption(out.frame, out.info) == expectedTOA(bench.client, port: bench.clientPort))
        #expect(out.info.tcpOptions.timestampOffset >= 0)
        #expect(out.info.tcpOptions.sackBlockCount == 1)
        #expect(bench.dp.counters[.toaPruned] == 1)
    }

    @Test(arguments: [false, true]) func proxyV1AtTheStreamStartAndEverythingAfterShifted(_ v6: Bool) {
        var bench = ClientAddressBench(.proxyProtocolV1, v6: v6)
        bench.handshake()
        let mss = bench.synAckMSS
        #expect(mss == UInt16(v6 ? 1440 : 1460))
        let header = Array(
            (v6
                ? "PROXY TCP6 2001:db8:c::2 2001:db8:f::10 40000 80\r\n"
                : "PROXY TCP4 198.51.100.2 203.0.113.10 40000 80\r\n").utf8)
        let h = UInt32(header.count)

        // The pure ACK passes untouched: the header waits for the first byte.
        let ack = bench.dp.run(
            bench.fromClient(seq: bench.clientISN &+ 1, ack: bench.serverISN &+ 1), from: .external, now: 1002,
            network: bench.network)
        #expect(ack.info.payloadLength == 0)
        #expect(ack.seq == bench.legISN &+ 1)

        let first = bench.fromClient(
            seq: bench.clientISN &+ 1, ack: bench.serverISN &+ 1, flags: TCPFlag.ack | TCPFlag.psh, payload: request)
        let out = bench.dp.run(first, from: .external, now: 1003, network: bench.network)
        #expect(out.verdict == .transmit(.internal))
        #expect(FrameChecker.problem(out.frame) == nil)
        #expect(out.seq == bench.legISN &+ 1)
        #expect(out.payload == header + request)

        // The client retransmits its first segment: the identical header again, never a hole.
        let again = bench.dp.run(first, from: .external, now: 1004, network: bench.network)
        #expect(again.payload == header + request)
        #expect(again.seq == bench.legISN &+ 1)

        // The next client segment sits after the header.
        let second = bench.dp.run(
            bench.fromClient(
                seq: bench.clientISN &+ 1 &+ UInt32(request.count), ack: bench.serverISN &+ 1, payload: [1]),
            from: .external, now: 1005, network: bench.network)
        #expect(second.seq == bench.legISN &+ 1 &+ h &+ UInt32(request.count))
        #expect(FrameChecker.problem(second.frame) == nil)

        // An acknowledgement inside the header is, to the client, nothing acknowledged yet.
        let partial = bench.dp.run(
            bench.fromServer(seq: bench.serverISN &+ 1, ack: bench.legISN &+ 1 &+ 10), from: .internal, now: 1006,
            network: bench.network)
        #expect(partial.ack == bench.clientISN &+ 1)
        #expect(FrameChecker.problem(partial.frame) == nil)

        // The server acknowledges header and request: the client sees its request acknowledged.
        let whole = bench.dp.run(
            bench.fromServer(seq: bench.serverISN &+ 1, ack: bench.legISN &+ 1 &+ h &+ UInt32(request.count)),
            from: .internal, now: 1007, network: bench.network)
        #expect(whole.ack == bench.clientISN &+ 1 &+ UInt32(request.count))

        // After that the shift is folded in: segments and acknowledgements keep it.
        let third = bench.dp.run(
            bench.fromClient(
                seq: bench.clientISN &+ 2 &+ UInt32(request.count), ack: bench.serverISN &+ 1, payload: [2]),
            from: .external, now: 1008, network: bench.network)
        #expect(third.seq == bench.legISN &+ 2 &+ h &+ UInt32(request.count))
        let late = bench.dp.run(
            bench.fromServer(
                seq: bench.serverISN &+ 1, ack: bench.legISN &+ 3 &+ h &+ UInt32(request.count),
                options: [.nop, .nop, .sack([(bench.legISN &+ 100 &+ h, bench.legISN &+ 200 &+ h)])]),
            from: .internal, now: 1009, network: bench.network)
        #expect(late.ack == bench.clientISN &+ 3 &+ UInt32(request.count))
        #expect(late.frame.u32(late.info.tcpOptions.sackOffset) == bench.clientISN &+ 100)
        #expect(FrameChecker.problem(late.frame) == nil)
        #expect(bench.dp.counters[.proxyHeadersInserted] == 2)
    }

    @Test(arguments: [false, true]) func proxyV2WithTLVsParsesBack(_ v6: Bool) {
        var bench = ClientAddressBench(
            .proxyProtocolV2, options: ClientAddressOptions(uniqueID: true, crc32c: true), v6: v6)
        bench.handshake()
        let out = bench.dp.run(
            bench.fromClient(seq: bench.clientISN &+ 1, ack: bench.serverISN &+ 1, payload: request), from: .external,
            now: 1002, network: bench.network)
        #expect(FrameChecker.problem(out.frame) == nil)
        var header = ProxyProtocolHeader()
        let bytes = out.payload
        let found = ProxyProtocol.parse(bytes.span, from: 0, count: bytes.count, into: &header)
        #expect(found == .v2(length: v6 ? 52 + 18 : 28 + 18))
        #expect(header.source == bench.client && header.sourcePort == bench.clientPort)
        #expect(header.destination == bench.vip && header.destinationPort == 80)
        #expect(header.hasCRC32C)
        #expect(header.uniqueIDLength == 8)
        #expect(Array(bytes[header.length...]) == request)
    }

    @Test func proxyHeaderGoesAloneWhenTheMTULeavesNoRoom() {
        // A 1400-byte path to the real servers and a client segment that fills it.
        var bench = ClientAddressBench(.proxyProtocolV2, rsMTU: 1400)
        bench.handshake()
        let payload = [UInt8](repeating: 0x61, count: 1400 - 40)
        let out = bench.dp.run(
            bench.fromClient(seq: bench.clientISN &+ 1, ack: bench.serverISN &+ 1, payload: payload), from: .external,
            now: 1002, network: bench.network)
        #expect(out.verdict == .transmit(.internal))
        #expect(FrameChecker.problem(out.frame) == nil)
        #expect(out.payload == payload)
        #expect(out.seq == bench.legISN &+ 1 &+ 28)
        #expect(bench.dp.pendingOutputCount == 1)
        let alone = bench.pending(0)
        #expect(alone.side == .internal)
        // Addressed to the next hop towards the real server, like the segment it precedes.
        #expect(alone.frame.mac(0) == Topology.routerMAC.value && alone.frame.mac(6) == Topology.intMAC.value)
        #expect(FrameChecker.problem(alone.frame) == nil)
        var info = PacketInfo()
        #expect(PacketParser.parse(alone.frame.span, length: alone.frame.count, into: &info) == nil)
        #expect(info.source == bench.local && info.destination == bench.real)
        #expect(info.sourcePort == bench.localPort && info.destinationPort == 8080)
        #expect(alone.frame.u32(info.l4Offset + 4) == bench.legISN &+ 1)
        #expect(alone.frame.u32(info.l4Offset + 8) == bench.serverISN &+ 1)
        var header = ProxyProtocolHeader()
        let bytes = Array(alone.frame[info.payloadOffset..<info.payloadOffset + info.payloadLength])
        #expect(ProxyProtocol.parse(bytes.span, from: 0, count: bytes.count, into: &header) == .v2(length: 28))
        #expect(header.source == bench.client)
        #expect(bench.dp.counters[.proxyHeadersSeparate] == 1)
    }

    @Test func sendOnConnectPutsTheHeaderOnTheHandshakeAckAndResendsItUntilAcknowledged() {
        var bench = ClientAddressBench(.proxyProtocolV1, options: ClientAddressOptions(sendOnConnect: true))
        bench.handshake()
        let header = Array("PROXY TCP4 198.51.100.2 203.0.113.10 40000 80\r\n".utf8)
        let ack = bench.dp.run(
            bench.fromClient(seq: bench.clientISN &+ 1, ack: bench.serverISN &+ 1), from: .external, now: 1002,
            network: bench.network)
        #expect(FrameChecker.problem(ack.frame) == nil)
        #expect(ack.payload == header)
        #expect(ack.info.tcpFlags & TCPFlag.psh != 0)
        #expect(ack.seq == bench.legISN &+ 1)

        // Nothing comes back: Sluice resends the same bytes after its timeout, and again later.
        bench.dp.advance(now: 1100)
        #expect(bench.dp.pendingOutputCount == 0)
        bench.dp.advance(now: 1002 + 250)
        #expect(bench.dp.pendingOutputCount == 1)
        let resent = bench.pending(0)
        #expect(resent.side == .internal)
        #expect(resent.frame.mac(0) == Topology.routerMAC.value && resent.frame.mac(6) == Topology.intMAC.value)
        #expect(FrameChecker.problem(resent.frame) == nil)
        var info = PacketInfo()
        _ = PacketParser.parse(resent.frame.span, length: resent.frame.count, into: &info)
        #expect(Array(resent.frame[info.payloadOffset...]) == header)
        #expect(resent.frame.u32(info.l4Offset + 4) == bench.legISN &+ 1)
        bench.dp.clearPendingOutput()
        bench.dp.advance(now: 1002 + 250 + 500)
        #expect(bench.dp.pendingOutputCount == 1)
        bench.dp.clearPendingOutput()

        // The server acknowledges the header and greets: no more resends, the greeting is forwarded
        // with an acknowledgement of nothing the client sent.
        let greeting = bench.dp.run(
            bench.fromServer(
                seq: bench.serverISN &+ 1, ack: bench.legISN &+ 1 &+ UInt32(header.count),
                flags: TCPFlag.ack | TCPFlag.psh, payload: Array("220 hi\r\n".utf8)),
            from: .internal, now: 1800, network: bench.network)
        #expect(greeting.verdict == .transmit(.external))
        #expect(greeting.ack == bench.clientISN &+ 1)
        bench.dp.advance(now: 60_000)
        #expect(bench.dp.pendingOutputCount == 0)
        #expect(bench.dp.counters[.proxyHeaderResends] == 2)

        // The client's first command follows the header in the server's stream.
        let command = bench.dp.run(
            bench.fromClient(seq: bench.clientISN &+ 1, ack: bench.serverISN &+ 9, payload: Array("QUIT\r\n".utf8)),
            from: .external, now: 1801, network: bench.network)
        #expect(command.seq == bench.legISN &+ 1 &+ UInt32(header.count))
        #expect(command.payload == Array("QUIT\r\n".utf8))
    }

    @Test func sendOnConnectGivesUpAfterTheLastResend() {
        var bench = ClientAddressBench(.proxyProtocolV2, options: ClientAddressOptions(sendOnConnect: true))
        bench.handshake()
        _ = bench.dp.run(
            bench.fromClient(seq: bench.clientISN &+ 1, ack: bench.serverISN &+ 1), from: .external, now: 1002,
            network: bench.network)
        var now: UInt64 = 1002
        for _ in 0..<40 {
            now += 1000
            bench.dp.advance(now: now)
            bench.dp.clearPendingOutput()
        }
        #expect(bench.dp.counters[.proxyHeaderResends] == UInt64(ProxyHeaderResends.maximumResends))
        #expect(bench.dp.counters[.proxyHeaderResendsAbandoned] == 1)
    }

    @Test func aClientHeaderIsNeverTrustedUnlessPassthroughIsAllowed() {
        let clientHeader = Array("PROXY TCP4 6.6.6.6 203.0.113.10 1 80\r\n".utf8)
        let ours = Array("PROXY TCP4 198.51.100.2 203.0.113.10 40000 80\r\n".utf8)
        var strict = ClientAddressBench(.proxyProtocolV1)
        strict.handshake()
        let out = strict.dp.run(
            strict.fromClient(seq: strict.clientISN &+ 1, ack: strict.serverISN &+ 1, payload: clientHeader + request),
            from: .external, now: 1002, network: strict.network)
        #expect(out.payload == ours + clientHeader + request)
        #expect(strict.dp.counters[.proxyHeadersFromClient] == 1)

        var cascade = ClientAddressBench(.proxyProtocolV1, options: ClientAddressOptions(passthrough: true))
        cascade.handshake()
        let passed = cascade.dp.run(
            cascade.fromClient(
                seq: cascade.clientISN &+ 1, ack: cascade.serverISN &+ 1, payload: clientHeader + request),
            from: .external, now: 1002, network: cascade.network)
        #expect(passed.payload == clientHeader + request)
        #expect(passed.seq == cascade.legISN &+ 1)
        #expect(cascade.dp.counters[.proxyHeadersPassedThrough] == 1)
        // Nothing is shifted afterwards either.
        let next = cascade.dp.run(
            cascade.fromClient(
                seq: cascade.clientISN &+ 1 &+ UInt32(clientHeader.count + request.count), ack: cascade.serverISN &+ 1,
                payload: [1]),
            from: .external, now: 1003, network: cascade.network)
        #expect(next.seq == cascade.legISN &+ 1 &+ UInt32(clientHeader.count + request.count))
    }

    @Test func anICMPErrorAboutAShiftedSegmentReachesTheClientWithItsOwnSequenceNumber() {
        var bench = ClientAddressBench(.proxyProtocolV1)
        bench.handshake()
        let second = bench.dp.run(
            bench.fromClient(seq: bench.clientISN &+ 101, ack: bench.serverISN &+ 1, payload: request),
            from: .external, now: 1002, network: bench.network)
        #expect(second.seq == bench.legISN &+ 101 &+ 47)
        // A router behind the gateway cannot carry it and quotes it back to the LIP.
        let error = PacketBuilder().ethernet(src: Topology.routerMAC, dst: Topology.intMAC)
            .ipv4(src: Topology.router, dst: bench.local)
            .icmp(type: 3, code: 4, rest: 1280, payload: Array(second.frame[14...])).build()
        let out = bench.dp.run(error, from: .internal, now: 1003, network: bench.network)
        #expect(out.verdict == .transmit(.external))
        #expect(FrameChecker.problem(out.frame) == nil)
        var inner = EmbeddedPacket()
        #expect(PacketParser.parseICMPError(out.frame.span, info: out.info, into: &inner) == nil)
        #expect(out.frame.u32(inner.l4Offset + 4) == bench.clientISN &+ 101)
    }

    @Test(arguments: [ClientAddressMode.proxyProtocolV1, .proxyProtocolV2])
    func aCorruptedPayloadStaysDetectablyCorrupted(_ mode: ClientAddressMode) {
        var bench = ClientAddressBench(mode)
        bench.handshake()
        // An odd-length payload (and, for v1, an odd-length header: 47 bytes) exercises both parities.
        var segment = bench.fromClient(
            seq: bench.clientISN &+ 1, ack: bench.serverISN &+ 1, payload: Array("odd payload".utf8))
        #expect(FrameChecker.problem(segment) == nil)
        segment[segment.count - 3] ^= 0x40
        let out = bench.dp.run(segment, from: .external, now: 1002, network: bench.network)
        #expect(out.verdict == .transmit(.internal))
        #expect(FrameChecker.problem(out.frame) != nil)
        if mode == .proxyProtocolV2 {
            // Even shift: undoing the flip in the output makes its checksum right, so nothing but the
            // corruption was carried. (After an odd shift the carried error sits byte-swapped.)
            var repaired = out.frame
            repaired[repaired.count - 3] ^= 0x40
            #expect(FrameChecker.problem(repaired) == nil)
        }
    }

    @Test func aReloadThatDropsTheModeLeavesTheStreamWhole() {
        var bench = ClientAddressBench(.proxyProtocolV2)
        bench.handshake()
        bench.dp.apply(configuration: Topology.configuration(weights: [1, 0]))
        let out = bench.dp.run(
            bench.fromClient(seq: bench.clientISN &+ 1, ack: bench.serverISN &+ 1, payload: request), from: .external,
            now: 1002, network: bench.network)
        #expect(out.payload == request)
        #expect(out.seq == bench.legISN &+ 1)
        #expect(bench.dp.counters[.proxyHeadersSkipped] == 1)
        let next = bench.dp.run(
            bench.fromClient(
                seq: bench.clientISN &+ 1 &+ UInt32(request.count), ack: bench.serverISN &+ 1, payload: [1]),
            from: .external, now: 1003, network: bench.network)
        #expect(next.seq == bench.legISN &+ 1 &+ UInt32(request.count))
    }

    @Test func noClientAddressModeChangesNothing() {
        var bench = ClientAddressBench(.none)
        bench.handshake()
        #expect(bench.synAckMSS == 1460)
        let out = bench.dp.run(
            bench.fromClient(seq: bench.clientISN &+ 1, ack: bench.serverISN &+ 1, payload: request), from: .external,
            now: 1002, network: bench.network)
        #expect(out.payload == request)
        #expect(toaOption(out.frame, out.info) == nil)
    }
}
