// The world of PathBenchmarks: the lab's addresses every other micro benchmark uses (client
// 10.210.1.2 behind the external interface, VIP 10.210.9.10, LIP 10.210.2.100, real server
// 10.210.2.2:8080 behind the internal one, permanent neighbours, a default route back to the client
// side), plus a router on each side that sends ICMP errors. Constants are repeated from
// FullNATFixtures rather than shared, as SynProxyFixtures does: each suite may change its own.
//
// Services, all TCP, round robin, one LIP, one real server:
//   :80  plain FULLNAT (ICMP translation)
//   :81  client_address toa                       (Dataplane-level TOA benchmark)
//   :82  client_address proxy_protocol_v2         (Dataplane-level PROXY v2 benchmark)
//   :83  client_address proxy_protocol_v1
// The client-address services only do their work once the data plane implements issue 4; until
// then they forward like :80, and the Dataplane-level benchmarks check for it and skip.
//
// `handshake` takes a connection through SYN, SYN-ACK and ACK with `Dataplane.process` and returns
// what the fixtures need to build later segments: the local port and the RS-leg sequence offset the
// data plane chose, and the client-side sequence offset (none without SYNPROXY).

import FullNATFixtures
import SluiceCore
import SluicePacket
import SluiceTestKit

/// Addresses, services, network view and handshake of the path benchmarks.
public enum PathWorld {
    public static let externalIndex = BenchTopology.externalIndex
    public static let internalIndex = BenchTopology.internalIndex
    public static let externalMAC = BenchTopology.externalMAC
    public static let internalMAC = BenchTopology.internalMAC
    public static let clientMAC = BenchTopology.clientMAC
    public static let realServerMAC = BenchTopology.realServerMAC
    public static let internalRouterMAC = MACAddress(0x0200_0000_0203)
    public static let externalRouterMAC = MACAddress(0x0200_0000_0103)

    public static let client = BenchTopology.client
    public static let vip = BenchTopology.vip
    public static let local = BenchTopology.local
    public static let realServer = BenchTopology.realServer
    public static let internalRouter = IPAddress(v4: 0x0AD2_0201)  // 10.210.2.1
    public static let externalRouter = IPAddress(v4: 0x0AD2_0101)  // 10.210.1.1
    public static let clientPort: UInt16 = 40_001
    public static let realPort: UInt16 = 8080

    public static let plainPort: UInt16 = 80
    public static let toaPort: UInt16 = 81
    public static let proxyV2Port: UInt16 = 82
    public static let proxyV1Port: UInt16 = 83

    public static let clientISN: UInt32 = 1_000_000
    public static let realServerISN: UInt32 = 7_000_000
    /// UMEM chunk size: the frame buffer handed to `process` is this long, as in the worker.
    public static let chunkSize = 2048
    /// Monotonic milliseconds of every replay (constant: no timer fires).
    public static let now: UInt64 = 1_000_000
    /// Keys the table hash and ISNs; fixed so that runs repeat.
    public static let secret: (UInt64, UInt64) = (0x0123_4567_89AB_CDEF, 0x0F1E_2D3C_4B5A_6978)
    /// Connection-table capacity of the replay data planes.
    public static let connectionCapacity = 1 << 16

    /// Why a fixture could not be built as the benchmark needs it.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    static func service(_ name: String, port: UInt16, mode: ClientAddressMode) -> VirtualServiceConfiguration {
        VirtualServiceConfiguration(
            name: name, vip: vip, port: port, transport: .tcp, scheduler: .rr, localAddresses: [local],
            clientAddress: mode,
            realServers: [RealServerConfiguration(address: realServer, port: realPort, weight: 1)])
    }

    /// The four services above, 2^16 connections.
    public static func configuration() -> DataplaneConfiguration {
        DataplaneConfiguration(
            services: [
                service("plain", port: plainPort, mode: .none),
                service("toa", port: toaPort, mode: .toa),
                service("ppv2", port: proxyV2Port, mode: .proxyProtocolV2),
                service("ppv1", port: proxyV1Port, mode: .proxyProtocolV1),
            ],
            connectionCapacity: connectionCapacity)
    }

    /// Worker 0 of 1 with the configuration above.
    public static func makeDataplane() -> Dataplane {
        Dataplane(
            configuration: configuration(), worker: 0, workerCount: 1, externalInterface: externalIndex,
            internalInterface: internalIndex, secret: secret)
    }

    /// A zeroed buffer of one UMEM chunk.
    public static func makeBuffer() -> [UInt8] { [UInt8](repeating: 0, count: chunkSize) }

    /// BenchTopology's network (the same addresses, MACs and ifindexes): connected /24s on both sides,
    /// a default route back to the client side, permanent neighbours.
    public static func network() -> NetworkView { BenchTopology.network() }

    /// A connection after its three-way handshake.
    public struct Handshake: Sendable {
        /// The local port the data plane chose.
        public let localPort: UInt16
        /// client seq &+ seqDelta = RS-leg seq (wrapping), as the data plane translated the SYN.
        public let seqDelta: UInt32
        /// The client's ACK completing the handshake, as the data plane sent it to the real server.
        public let forwardedACK: [UInt8]
    }

    /// A client segment to `vport` (Linux-like: timestamps on every segment after the SYN).
    public static func clientSegment(
        vport: UInt16, seq: UInt32, ack: UInt32, flags: UInt8, payload: [UInt8] = [], timestamps: Bool = true
    ) -> [UInt8] {
        PacketBuilder()
            .ethernet(src: clientMAC, dst: externalMAC)
            .ipv4(src: client, dst: vip)
            .tcp(
                sport: clientPort, dport: vport, seq: seq, ack: ack, flags: flags, window: 502,
                options: timestamps ? [.nop, .nop, .timestamps(val: 100_000, ecr: 200_000)] : [], payload: payload
            )
            .build()
    }

    /// SYN, SYN-ACK and ACK through `dataplane` on `vport`.
    public static func handshake(_ dataplane: inout Dataplane, vport: UInt16, network: borrowing NetworkView)
        throws(Failure) -> Handshake
    {
        let syn = PacketBuilder()
            .ethernet(src: clientMAC, dst: externalMAC)
            .ipv4(src: client, dst: vip)
            .tcp(
                sport: clientPort, dport: vport, seq: clientISN, flags: TCPFlag.syn, window: 64240,
                options: [.mss(1460), .sackPermitted, .timestamps(val: 99_999, ecr: 0), .nop, .windowScale(7)]
            )
            .build()
        let (synVerdict, synOut) = run(&dataplane, syn, from: .external, now: now, network: network)
        guard synVerdict == .transmit(.internal), synOut.count >= 54 else {
            throw Failure("client SYN to :\(vport): \(synVerdict), expected transmit(internal)")
        }
        let localPort = be16(synOut, 34)
        let rsLegISN = be32(synOut, 38)
        let synAck = PacketBuilder()
            .ethernet(src: realServerMAC, dst: internalMAC)
            .ipv4(src: realServer, dst: local)
            .tcp(
                sport: realPort, dport: localPort, seq: realServerISN, ack: rsLegISN &+ 1,
                flags: TCPFlag.syn | TCPFlag.ack, window: 65160,
                options: [.mss(1460), .sackPermitted, .timestamps(val: 199_999, ecr: 99_999), .nop, .windowScale(7)]
            )
            .build()
        let (synAckVerdict, synAckOut) = run(&dataplane, synAck, from: .internal, now: now, network: network)
        guard synAckVerdict == .transmit(.external), synAckOut.count >= 54 else {
            throw Failure("RS SYN-ACK on :\(vport): \(synAckVerdict), expected transmit(external)")
        }
        guard be32(synAckOut, 38) == realServerISN else {
            throw Failure("RS→client sequence numbers are shifted; the fixtures assume no shift")
        }
        let ack = clientSegment(vport: vport, seq: clientISN &+ 1, ack: realServerISN &+ 1, flags: TCPFlag.ack)
        let (ackVerdict, ackOut) = run(&dataplane, ack, from: .external, now: now, network: network)
        guard ackVerdict == .transmit(.internal) else {
            throw Failure("client ACK on :\(vport): \(ackVerdict), expected transmit(internal)")
        }
        return Handshake(localPort: localPort, seqDelta: rsLegISN &- clientISN, forwardedACK: ackOut)
    }

    /// Processes a copy of `frame` in a chunk-sized buffer; returns the verdict and the output bytes.
    public static func run(
        _ dataplane: inout Dataplane, _ frame: [UInt8], from side: Side, now: UInt64,
        network: borrowing NetworkView
    ) -> (Verdict, [UInt8]) {
        var buffer = makeBuffer()
        for i in frame.indices { buffer[i] = frame[i] }
        var length = frame.count
        var span = buffer.mutableSpan
        let verdict = dataplane.process(frame: &span, length: &length, from: side, now: now, network: network)
        _ = consume span
        return (verdict, Array(buffer[0..<max(0, min(length, chunkSize))]))
    }

    public static func be16(_ b: [UInt8], _ i: Int) -> UInt16 { UInt16(b[i]) << 8 | UInt16(b[i + 1]) }

    public static func be32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
    }
}
