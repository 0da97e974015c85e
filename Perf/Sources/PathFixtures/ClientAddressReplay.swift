// Client-address insertion through `Dataplane.process` (issue 4): a connection is taken through its
// handshake on a service with `client_address` toa, proxy_protocol_v2 or proxy_protocol_v1 (PathWorld
// ports 81–83), then one client segment is replayed:
//
//   toa-ack         the ACK that completes the handshake (66 bytes, timestamps): forwarded with TOA
//   toa-data        the first data segment (512 bytes of payload): forwarded with TOA
//   proxy-v2-data   the first data segment: forwarded with the 28-byte v2 header in front of its payload
//   proxy-v1-data   the same with the v1 line (44 bytes)
//
// Replaying is what the data plane sees when the client retransmits: TOA goes on every client
// segment until the real server has acknowledged client data (it never does here), and a
// retransmitted first segment gets the identical PROXY header again. So every iteration does the
// insertion, on top of the established FULLNAT rewrite; the ACK's replays are duplicate ACKs
// (the first one also moved the connection to ESTABLISHED, which the replays do not repeat).
//
// `make` checks, once, that the data plane really inserted (the forwarded frame grew by the
// option or header, checksums valid, the bytes where they belong); a data plane without issue 4's
// insertion throws, and the benchmarks are skipped with that reason.

import SluiceCore
import SluicePacket
import SluiceTestKit

/// Replays of client segments on client-address services.
public enum ClientAddressReplay {
    /// The cases measured.
    public enum Case: String, Sendable, CaseIterable {
        case toaACK = "toa-ack"
        case toaData = "toa-data"
        case proxyV2Data = "proxy-v2-data"
        case proxyV1Data = "proxy-v1-data"
    }

    public static let payloadLength = 512

    /// Service port and the bytes the data plane must add.
    static func parameters(_ c: Case) -> (vport: UInt16, growth: Int) {
        switch c {
        case .toaACK, .toaData: (PathWorld.toaPort, TOA.lengthV4)
        case .proxyV2Data: (PathWorld.proxyV2Port, ProxyProtocolV2.length(v6: false, uniqueID: nil, crc32c: false))
        case .proxyV1Data:
            (
                PathWorld.proxyV1Port,
                ProxyProtocolV1.length(
                    source: PathWorld.client, sourcePort: PathWorld.clientPort, destination: PathWorld.vip,
                    destinationPort: PathWorld.proxyV1Port)
            )
        }
    }

    /// Establishes a connection on the case's service and returns the segment to replay, checked.
    public static func make(_ c: Case, dataplane: inout Dataplane, network: borrowing NetworkView)
        throws(PathWorld.Failure) -> FrameReplay
    {
        let (vport, growth) = parameters(c)
        _ = try PathWorld.handshake(&dataplane, vport: vport, network: network)
        let payload: [UInt8] = c == .toaACK ? [] : (0..<payloadLength).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let segment = PathWorld.clientSegment(
            vport: vport, seq: PathWorld.clientISN &+ 1, ack: PathWorld.realServerISN &+ 1,
            flags: payload.isEmpty ? TCPFlag.ack : TCPFlag.psh | TCPFlag.ack, payload: payload)
        let replay = FrameReplay(pristine: segment, side: .external, expected: .transmit(.internal), now: PathWorld.now)
        // Twice: the first data segment and its first retransmission must both carry the insertion.
        for attempt in 0..<2 {
            let (verdict, out) = replay.runOnce(&dataplane, network: network)
            guard verdict == replay.expected else {
                throw PathWorld.Failure("\(c.rawValue): \(verdict), expected \(replay.expected)")
            }
            guard out.count == segment.count + growth else {
                throw PathWorld.Failure(
                    "\(c.rawValue): forwarded \(out.count) bytes for \(segment.count) (attempt \(attempt + 1)); "
                        + "expected \(growth) more: the data plane does not insert the client address")
            }
            if let problem = FrameChecker.problem(out) { throw PathWorld.Failure("\(c.rawValue): \(problem)") }
            var info = PacketInfo()
            if let reason = PacketParser.parse(out.span, length: out.count, into: &info) {
                throw PathWorld.Failure("\(c.rawValue): forwarded segment does not parse: \(reason)")
            }
            let ok: Bool
            switch c {
            case .toaACK, .toaData:
                ok = toaPort(in: out) == PathWorld.clientPort
            case .proxyV2Data, .proxyV1Data:
                var header = ProxyProtocolHeader()
                _ = ProxyProtocol.parse(out.span, from: info.payloadOffset, count: info.payloadLength, into: &header)
                ok =
                    header.version == (c == .proxyV2Data ? 2 : 1) && header.source == PathWorld.client
                    && header.sourcePort == PathWorld.clientPort && header.length == growth
            }
            guard ok, Array(out[(out.count - payload.count)...]) == payload else {
                throw PathWorld.Failure("\(c.rawValue): client address or payload wrong in the forwarded segment")
            }
        }
        return replay
    }

    /// The port of the first TOA option (kind 254, length 8) in the IPv4 TCP frame `frame` when it
    /// carries the client's address, or nil.
    static func toaPort(in frame: [UInt8]) -> UInt16? {
        let headerEnd = 34 + Int(frame[46] >> 4) * 4
        var i = 54
        while i + 1 < headerEnd {
            switch frame[i] {
            case 0: return nil
            case 1: i += 1
            default:
                if frame[i] == TOA.defaultKind && frame[i + 1] == 8 && i + 8 <= headerEnd {
                    return PathWorld.be32(frame, i + 4) == PathWorld.client.v4 ? PathWorld.be16(frame, i + 2) : nil
                }
                guard frame[i + 1] >= 2 else { return nil }
                i += Int(frame[i + 1])
            }
        }
        return nil
    }
}
