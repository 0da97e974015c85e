// A TCP connection taken through a real three-way handshake in a `Dataplane`, and the two data segments
// the benchmarks replay on it (Katran's perf_testing idea: the per-packet benchmark replays fixtures,
// here the same PacketBuilder frames the unit tests use).
//
// The handshake is not measured: it only puts the connection into ESTABLISHED and tells the benchmark
// which local port and RS-leg sequence offset the data plane chose, so that the replayed segments are
// ones the data plane must accept and the C reference can be given the very same connection.

import SluiceCore
import SluicePacket
import SluiceTestKit

/// The established connection's parameters and its two prebuilt data segments.
public struct EstablishedFlow: Sendable {
    /// Client → VIP data segment (PSH|ACK, `payloadLength` bytes).
    public let inbound: [UInt8]
    /// Real server → LIP data segment (PSH|ACK, `payloadLength` bytes).
    public let outbound: [UInt8]
    /// The local port the data plane allocated.
    public let localPort: UInt16
    /// RS-leg sequence offset: client seq &+ seqDelta = RS-leg seq (wrapping).
    public let seqDelta: UInt32

    public static let clientISN: UInt32 = 1_000_000
    public static let realServerISN: UInt32 = 7_000_000
    public static let payloadLength = 64
    /// UMEM chunk size: the frame buffer handed to `process` is this long, as in the worker.
    public static let chunkSize = 2048

    /// Why a handshake did not establish.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Builds the two data segments for a connection with `localPort` and `seqDelta`.
    public init(localPort: UInt16, seqDelta: UInt32) {
        self.localPort = localPort
        self.seqDelta = seqDelta
        let payload = [UInt8](repeating: 0x5A, count: Self.payloadLength)
        inbound = PacketBuilder()
            .ethernet(src: BenchTopology.clientMAC, dst: BenchTopology.externalMAC)
            .ipv4(src: BenchTopology.client, dst: BenchTopology.vip)
            .tcp(
                sport: BenchTopology.clientPort, dport: BenchTopology.vport, seq: Self.clientISN &+ 1,
                ack: Self.realServerISN &+ 1, flags: TCPFlag.psh | TCPFlag.ack, window: 502, payload: payload
            )
            .build()
        // The real server acknowledges the client's first segment on the RS leg (sequence space wraps).
        let rsLegAck = Self.clientISN &+ seqDelta &+ 1 &+ UInt32(Self.payloadLength)
        outbound = PacketBuilder()
            .ethernet(src: BenchTopology.realServerMAC, dst: BenchTopology.internalMAC)
            .ipv4(src: BenchTopology.realServer, dst: BenchTopology.local)
            .tcp(
                sport: BenchTopology.realPort, dport: localPort, seq: Self.realServerISN &+ 1, ack: rsLegAck,
                flags: TCPFlag.psh | TCPFlag.ack, window: 509, payload: payload
            )
            .build()
    }

    /// Runs SYN, SYN-ACK and ACK through `dataplane` and returns the established flow.
    public static func establish(_ dataplane: inout Dataplane, network: borrowing NetworkView, now: UInt64)
        throws(Failure)
        -> EstablishedFlow
    {
        let syn = PacketBuilder()
            .ethernet(src: BenchTopology.clientMAC, dst: BenchTopology.externalMAC)
            .ipv4(src: BenchTopology.client, dst: BenchTopology.vip)
            .tcp(
                sport: BenchTopology.clientPort, dport: BenchTopology.vport, seq: clientISN, flags: TCPFlag.syn,
                window: 64240, options: [.mss(1460), .sackPermitted, .nop, .windowScale(7)]
            )
            .build()
        let (synVerdict, synOut) = run(&dataplane, syn, from: .external, now: now, network: network)
        guard synVerdict == .transmit(.internal), synOut.count >= 54 else {
            throw Failure(description: "client SYN: \(synVerdict), expected transmit(internal)")
        }
        let localPort = UInt16(synOut[34]) << 8 | UInt16(synOut[35])
        let rsLegISN = be32(synOut, 38)

        let synAck = PacketBuilder()
            .ethernet(src: BenchTopology.realServerMAC, dst: BenchTopology.internalMAC)
            .ipv4(src: BenchTopology.realServer, dst: BenchTopology.local)
            .tcp(
                sport: BenchTopology.realPort, dport: localPort, seq: realServerISN, ack: rsLegISN &+ 1,
                flags: TCPFlag.syn | TCPFlag.ack, window: 65160, options: [.mss(1460), .sackPermitted]
            )
            .build()
        let (synAckVerdict, synAckOut) = run(&dataplane, synAck, from: .internal, now: now, network: network)
        guard synAckVerdict == .transmit(.external), synAckOut.count >= 54 else {
            throw Failure(description: "RS SYN-ACK: \(synAckVerdict), expected transmit(external)")
        }
        let clientSideISN = be32(synAckOut, 38)

        let ack = PacketBuilder()
            .ethernet(src: BenchTopology.clientMAC, dst: BenchTopology.externalMAC)
            .ipv4(src: BenchTopology.client, dst: BenchTopology.vip)
            .tcp(
                sport: BenchTopology.clientPort, dport: BenchTopology.vport, seq: clientISN &+ 1,
                ack: clientSideISN &+ 1, flags: TCPFlag.ack, window: 502
            )
            .build()
        let (ackVerdict, _) = run(&dataplane, ack, from: .external, now: now, network: network)
        guard ackVerdict == .transmit(.internal) else {
            throw Failure(description: "client ACK: \(ackVerdict), expected transmit(internal)")
        }
        guard clientSideISN == realServerISN else {
            // The replayed client segment acknowledges realServerISN + 1; a data plane that shifts the
            // server's sequence space (SYNPROXY does) needs a different fixture.
            throw Failure(description: "RS→client sequence numbers are shifted; fixture assumes no shift")
        }
        return EstablishedFlow(localPort: localPort, seqDelta: rsLegISN &- clientISN)
    }

    /// Processes a copy of `frame` in a chunk-sized buffer; returns the verdict and the output bytes.
    public static func run(
        _ dataplane: inout Dataplane, _ frame: [UInt8], from side: Side, now: UInt64,
        network: borrowing NetworkView
    ) -> (Verdict, [UInt8]) {
        var buffer = [UInt8](repeating: 0, count: chunkSize)
        for i in frame.indices { buffer[i] = frame[i] }
        var length = frame.count
        var span = buffer.mutableSpan
        let verdict = dataplane.process(frame: &span, length: &length, from: side, now: now, network: network)
        _ = consume span
        return (verdict, Array(buffer[0..<max(0, min(length, chunkSize))]))
    }

    public static func be32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
    }
}
