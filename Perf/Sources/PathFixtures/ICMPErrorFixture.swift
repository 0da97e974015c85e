// ICMP errors about an established FULLNAT connection, translated by `Dataplane.process`
// (Sources/SluiceCore/Dataplane+ICMP.swift; the fixture follows DataplaneUDPAndICMPTests):
//
//   from the RS side   a router between Sluice and the real server cannot forward a full-sized client
//                      segment (1500-byte datagram) and sends "fragmentation needed, next-hop MTU 1400"
//                      to the LIP; Sluice translates it to VIP → client, quoting client:cport → VIP:80.
//                      This is path-MTU discovery through the gateway, the case that matters.
//   from the client side  the same about a full-sized real-server segment, sent to the VIP by a router
//                      near the client; translated to LIP → real server.
//
// The quote is what Linux puts in an ICMP error (icmp_send): the offending datagram cut to 548 bytes,
// so that the error fits in 576. The message is therefore 590 bytes on the wire and the translation
// sums it twice (checksum verified, then recomputed after the rewrite); that is the realistic cost,
// an RFC 792 minimal quote (IP header + 8 bytes) would be cheaper.
//
// Translating an error changes no state (no deadline refresh, no counter that gates anything), so
// the error is replayed as it is: every iteration does the same work.

import SluiceCore
import SluicePacket
import SluiceTestKit

/// The two translated ICMP errors, built against a data plane with one established connection.
public enum ICMPErrorFixture {
    /// Bytes of the offending datagram quoted in the error (576 − 20 − 8, as Linux).
    public static let quoteLength = 548
    /// The next-hop MTU the router reports.
    public static let reportedMTU: UInt32 = 1400

    /// Establishes a connection on the plain service of `dataplane` and returns the error from the RS
    /// side (`fromServerSide`) or from the client side, checked once: verdict, valid checksums, outer
    /// and quoted tuples translated.
    public static func make(fromServerSide: Bool, dataplane: inout Dataplane, network: borrowing NetworkView)
        throws(PathWorld.Failure) -> FrameReplay
    {
        let hs = try PathWorld.handshake(&dataplane, vport: PathWorld.plainPort, network: network)
        let payload = [UInt8](repeating: 0x5A, count: 1448)
        let offending: [UInt8]
        let offendingSide: Side
        if fromServerSide {
            offending = PathWorld.clientSegment(
                vport: PathWorld.plainPort, seq: PathWorld.clientISN &+ 1, ack: PathWorld.realServerISN &+ 1,
                flags: TCPFlag.ack, payload: payload)
            offendingSide = .external
        } else {
            offending = PacketBuilder()
                .ethernet(src: PathWorld.realServerMAC, dst: PathWorld.internalMAC)
                .ipv4(src: PathWorld.realServer, dst: PathWorld.local)
                .tcp(
                    sport: PathWorld.realPort, dport: hs.localPort, seq: PathWorld.realServerISN &+ 1,
                    ack: PathWorld.clientISN &+ hs.seqDelta &+ 1, flags: TCPFlag.ack, window: 509,
                    options: [.nop, .nop, .timestamps(val: 200_001, ecr: 100_000)], payload: payload
                )
                .build()
            offendingSide = .internal
        }
        let (verdict, sent) = PathWorld.run(
            &dataplane, offending, from: offendingSide, now: PathWorld.now, network: network)
        guard verdict == .transmit(fromServerSide ? .internal : .external), sent.count == 1514 else {
            throw PathWorld.Failure("full-sized segment: \(verdict), \(sent.count) bytes; expected 1514 forwarded")
        }
        let quote = Array(sent[14..<(14 + quoteLength)])
        let error: [UInt8]
        if fromServerSide {
            error = PacketBuilder()
                .ethernet(src: PathWorld.internalRouterMAC, dst: PathWorld.internalMAC)
                .ipv4(src: PathWorld.internalRouter, dst: PathWorld.local)
                .icmp(type: 3, code: 4, rest: reportedMTU, payload: quote)
                .build()
        } else {
            error = PacketBuilder()
                .ethernet(src: PathWorld.externalRouterMAC, dst: PathWorld.externalMAC)
                .ipv4(src: PathWorld.externalRouter, dst: PathWorld.vip)
                .icmp(type: 3, code: 4, rest: reportedMTU, payload: quote)
                .build()
        }
        let replay = FrameReplay(
            pristine: error, side: fromServerSide ? .internal : .external,
            expected: .transmit(fromServerSide ? .external : .internal), now: PathWorld.now)
        try check(replay, fromServerSide: fromServerSide, localPort: hs.localPort, &dataplane, network: network)
        return replay
    }

    static func check(
        _ replay: FrameReplay, fromServerSide: Bool, localPort: UInt16, _ dataplane: inout Dataplane,
        network: borrowing NetworkView
    ) throws(PathWorld.Failure) {
        let (verdict, out) = replay.runOnce(&dataplane, network: network)
        guard verdict == replay.expected else {
            throw PathWorld.Failure("ICMP error: \(verdict), expected \(replay.expected)")
        }
        if let problem = FrameChecker.problem(out) { throw PathWorld.Failure("translated ICMP error: \(problem)") }
        var info = PacketInfo()
        var inner = EmbeddedPacket()
        if let reason = PacketParser.parse(out.span, length: out.count, into: &info) {
            throw PathWorld.Failure("translated ICMP error does not parse: \(reason)")
        }
        if let reason = PacketParser.parseICMPError(out.span, info: info, into: &inner) {
            throw PathWorld.Failure("translated quote does not parse: \(reason)")
        }
        let ok: Bool
        if fromServerSide {
            ok =
                info.source == PathWorld.vip && info.destination == PathWorld.client
                && inner.source == PathWorld.client && inner.sourcePort == PathWorld.clientPort
                && inner.destination == PathWorld.vip && inner.destinationPort == PathWorld.plainPort
                && PathWorld.be32(out, inner.l4Offset + 4) == PathWorld.clientISN &+ 1
        } else {
            ok =
                info.source == PathWorld.local && info.destination == PathWorld.realServer
                && inner.source == PathWorld.realServer && inner.sourcePort == PathWorld.realPort
                && inner.destination == PathWorld.local && inner.destinationPort == localPort
        }
        guard ok else { throw PathWorld.Failure("ICMP error translated to the wrong addresses or ports") }
    }
}
