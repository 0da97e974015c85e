// The seed corpus of fuzz-dataplane: the flows of the unit tests (handshakes, data both ways, closes,
// SYN-proxy cookies, UDP, IPv6, ICMP errors from either side, fragments in and out of order, timers),
// written by running them through the harness, so that each reply quotes the ports and sequence numbers
// the data plane really chose.

import SluiceCore
import SluicePacket
import SluiceTestKit

extension DataplaneHarness {
    typealias H = DataplaneHarness

    /// A frame's TCP/UDP ports and TCP sequence and acknowledgment numbers, read back.
    struct Seen {
        var source: IPAddress, destination: IPAddress, sourcePort: UInt16, destinationPort: UInt16
        var seq: UInt32, ack: UInt32, tsval: UInt32
        init?(_ frame: [UInt8]?) {
            guard let frame else { return nil }
            var info = PacketInfo()
            guard PacketParser.parse(frame.span, length: frame.count, into: &info) == nil else { return nil }
            source = info.source
            destination = info.destination
            sourcePort = info.sourcePort
            destinationPort = info.destinationPort
            let l4 = info.l4Offset
            func u32(_ o: Int) -> UInt32 { (0..<4).reduce(UInt32(0)) { $0 << 8 | UInt32(frame[o + $1]) } }
            seq = info.l4Protocol == 6 ? u32(l4 + 4) : 0
            ack = info.l4Protocol == 6 ? u32(l4 + 8) : 0
            let ts = info.tcpOptions.timestampOffset
            tsval = info.l4Protocol == 6 && ts > 0 ? u32(ts) : 0
        }
    }

    static func fromClient(
        _ port: UInt16, sport: UInt16 = 40000, seq: UInt32, ack: UInt32 = 0, flags: UInt8, payload: [UInt8] = [],
        v6: Bool = false, options: [TCPOptionSpec] = []
    ) -> [UInt8] {
        let b = PacketBuilder().ethernet(src: clientMAC, dst: extMAC)
        let ip = v6 ? b.ipv6(src: client6, dst: vip6) : b.ipv4(src: client, dst: vip)
        return ip.tcp(sport: sport, dport: port, seq: seq, ack: ack, flags: flags, options: options, payload: payload)
            .build()
    }

    static func fromServer(to out: Seen, seq: UInt32, ack: UInt32, flags: UInt8, payload: [UInt8] = []) -> [UInt8] {
        let b = PacketBuilder().ethernet(src: routerMAC, dst: intMAC)
        let ip =
            out.source.isV6
            ? b.ipv6(src: out.destination, dst: out.source) : b.ipv4(src: out.destination, dst: out.source)
        return ip.tcp(
            sport: out.destinationPort, dport: out.sourcePort, seq: seq, ack: ack, flags: flags,
            options: flags & TCPFlag.syn != 0 ? [.mss(1400), .sackPermitted, .timestamps(val: 7, ecr: 1)] : [],
            payload: payload
        ).build()
    }

    static let synOptions: [TCPOptionSpec] = [
        .mss(1460), .sackPermitted, .timestamps(val: 5000, ecr: 0), .nop, .windowScale(7),
    ]
    static let request = Array("GET / HTTP/1.1\r\nHost: vip\r\n\r\n".utf8)
    static let response = Array("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".utf8)

    /// A FULLNAT connection from SYN to the last ACK.
    static func fullnatFlow(port: UInt16, v6: Bool = false) -> [UInt8] {
        var h = H()
        var input: [UInt8] = []
        func send(_ frame: [UInt8], _ side: Side) -> [UInt8]? {
            input += record(frame, side: side)
            return h.run(frame[...], side: side)
        }
        let syn = fromClient(port, seq: 1_000_000, flags: TCPFlag.syn, v6: v6, options: synOptions)
        guard let out = Seen(send(syn, .external)) else { return input }
        _ = send(fromServer(to: out, seq: 500, ack: out.seq &+ 1, flags: TCPFlag.syn | TCPFlag.ack), .internal)
        _ = send(
            fromClient(port, seq: 1_000_001, ack: 501, flags: TCPFlag.ack | TCPFlag.psh, payload: request, v6: v6),
            .external)
        _ = send(
            fromServer(
                to: out, seq: 501, ack: out.seq &+ 1 &+ UInt32(request.count), flags: TCPFlag.ack | TCPFlag.psh,
                payload: response), .internal)
        let clientEnd = 1_000_001 &+ UInt32(request.count)
        _ = send(
            fromClient(
                port, seq: clientEnd, ack: 501 &+ UInt32(response.count), flags: TCPFlag.fin | TCPFlag.ack, v6: v6),
            .external)
        _ = send(
            fromServer(
                to: out, seq: 501 &+ UInt32(response.count), ack: out.seq &+ 2 &+ UInt32(request.count),
                flags: TCPFlag.fin | TCPFlag.ack), .internal)
        _ = send(
            fromClient(port, seq: clientEnd &+ 1, ack: 502 &+ UInt32(response.count), flags: TCPFlag.ack, v6: v6),
            .external)
        input += record([], side: .external, steps: 15, advance: true)
        return input
    }

    /// A SYN-proxied connection: cookie SYN-ACK, the client's ACK, the server handshake, data.
    static func synProxyFlow(port: UInt16) -> [UInt8] {
        var h = H()
        var input: [UInt8] = []
        func send(_ frame: [UInt8], _ side: Side) -> [UInt8]? {
            input += record(frame, side: side)
            return h.run(frame[...], side: side)
        }
        guard let cookie = Seen(send(fromClient(port, seq: 7_000, flags: TCPFlag.syn, options: synOptions), .external))
        else { return input }
        let ack = fromClient(
            port, seq: 7_001, ack: cookie.seq &+ 1, flags: TCPFlag.ack | TCPFlag.psh, payload: request,
            options: [.nop, .nop, .timestamps(val: 5001, ecr: cookie.tsval)])
        guard let rsSYN = Seen(send(ack, .external)) else { return input }
        _ = send(fromServer(to: rsSYN, seq: 900, ack: rsSYN.seq &+ 1, flags: TCPFlag.syn | TCPFlag.ack), .internal)
        _ = send(
            fromServer(
                to: rsSYN, seq: 901, ack: rsSYN.seq &+ 1 &+ UInt32(request.count), flags: TCPFlag.ack, payload: response
            ), .internal)
        _ = send(
            fromClient(port, seq: 7_001 &+ UInt32(request.count), ack: cookie.seq &+ 1, flags: TCPFlag.rst), .external)
        return input
    }

    static func udpFlow() -> [UInt8] {
        var h = H()
        let query = PacketBuilder().ethernet(src: clientMAC, dst: extMAC).ipv4(src: client, dst: vip)
            .udp(sport: 5353, dport: 53, payload: [0x12, 0x34, 1, 0, 0, 1]).build()
        var input = record(query, side: .external)
        guard let out = Seen(h.run(query[...], side: .external)) else { return input }
        let reply = PacketBuilder().ethernet(src: routerMAC, dst: intMAC).ipv4(src: out.destination, dst: out.source)
            .udp(sport: out.destinationPort, dport: out.sourcePort, payload: [0x12, 0x34, 0x81, 0x80]).build()
        input += record(reply, side: .internal)
        return input
    }

    static func icmpFlow() -> [UInt8] {
        var h = H()
        let syn = fromClient(80, seq: 1_000_000, flags: TCPFlag.syn, options: synOptions)
        var input = record(syn, side: .external)
        guard let forwarded = h.run(syn[...], side: .external), let out = Seen(forwarded) else { return input }
        let tooBig = PacketBuilder().ethernet(src: routerMAC, dst: intMAC).ipv4(src: router, dst: out.source)
            .icmp(type: 3, code: 4, rest: 1280, payload: Array(forwarded[14...])).build()
        input += record(tooBig, side: .internal)
        let fromClientSide = PacketBuilder().ethernet(src: clientMAC, dst: extMAC).ipv4(src: client, dst: vip)
            .icmp(
                type: 3, code: 4, rest: 1200,
                payload: PacketBuilder().ipv4(src: vip, dst: client).tcp(
                    sport: 80, dport: 40000, seq: 5, ack: 1_000_001
                )
                .buildIP()
            ).build()
        input += record(fromClientSide, side: .external)
        return input
    }

    /// A fragmented UDP query, its last fragment first (held, then released), and the fragmented answer.
    static func fragmentFlow(v6: Bool) -> [UInt8] {
        var h = H()
        let b = PacketBuilder().ethernet(src: clientMAC, dst: extMAC)
        let payload = (0..<1800).map { UInt8(truncatingIfNeeded: $0) }
        let query = (v6 ? b.ipv6(src: client6, dst: vip6) : b.ipv4(src: client, dst: vip, df: false))
            .udp(sport: 5454, dport: 53, payload: payload).build()
        let pieces = Fragmenter.fragments(of: query, chunk: 800, identification: 0x5151)
        var input: [UInt8] = []
        var forwarded: [UInt8]?
        for piece in [pieces[pieces.count - 1]] + pieces.dropLast() {
            input += record(piece, side: .external)
            let out = h.run(piece[...], side: .external)
            if piece == pieces[0] { forwarded = out }
        }
        guard !v6, let out = Seen(forwarded) else { return input }
        let reply = PacketBuilder().ethernet(src: routerMAC, dst: intMAC).ipv4(src: out.destination, dst: out.source)
            .udp(sport: out.destinationPort, dport: out.sourcePort, payload: payload).build()
        for piece in Fragmenter.fragments(of: reply, chunk: 800, identification: 0x6161) {
            input += record(piece, side: .internal)
        }
        return input
    }

    /// The seed corpus.
    public static func seeds() -> [(name: String, bytes: [UInt8])] {
        var seeds: [(String, [UInt8])] = []
        for name in ["web", "toa", "pp1", "persist", "maglev"] {
            seeds.append(("tcp-\(name)", fullnatFlow(port: ports[name]!)))
        }
        seeds.append(("tcp6-toa", fullnatFlow(port: 80, v6: true)))
        for name in ["synproxy", "pp2"] { seeds.append(("synproxy-\(name)", synProxyFlow(port: ports[name]!))) }
        seeds.append(("udp-dns", udpFlow()))
        seeds.append(("icmp-errors", icmpFlow()))
        seeds.append(("udp-fragments", fragmentFlow(v6: false)))
        seeds.append(("udp6-fragments", fragmentFlow(v6: true)))
        return seeds
    }
}
