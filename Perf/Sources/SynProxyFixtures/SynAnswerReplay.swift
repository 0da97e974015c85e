// Path (a) of the SYNPROXY micro benchmark: a client SYN to a SYN-proxied VIP turned into the cookie
// SYN-ACK by `Dataplane.process` (docs/protocol.md §2 S1), in place, and routed back to the client.
//
// The SYN is what Linux sends (MSS 1460, SACK-permitted, timestamps, NOP, window scale 7: 74 bytes),
// so the answer carries every option the proxy can offer and the cookie encodes MSS, window scale
// and SACK. S1 keeps no state: replaying the same SYN is the same work every time, which is what
// makes a one-frame loop a fair measurement. Each step restores the SYN's bytes (the answer is
// written over them) into a UMEM-chunk-sized buffer and processes it, as a worker hands over a
// received frame; the restore alone is measurable (`restore`) to tell the harness's share apart.
//
// Building a replay checks the answer once, outside any measured region: transmitted on the
// external side, to the client's MAC, VIP → client, SYN|ACK acknowledging the client's ISN + 1,
// with valid IPv4 and TCP checksums. A data plane that answers differently fails the benchmark
// instead of being timed.

import SluiceCore
import SluicePacket
import SluiceTestKit

/// One client SYN and the checks on its answer.
public struct SynAnswerReplay: Sendable {
    /// Monotonic milliseconds handed to the data plane (constant: no timer runs, no state is made).
    public static let now: UInt64 = 1_000_000
    public static let clientPort: UInt16 = 40_001
    public static let clientISN: UInt32 = 1_000_000
    public static let clientTSval: UInt32 = 123_456

    /// Why the data plane's answer is not the expected SYN-ACK.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The client SYN restored before every step.
    public let pristine: [UInt8]
    /// The cookie SYN-ACK the data plane made from it (checked).
    public let answer: [UInt8]

    /// Builds the SYN, answers it once through `dataplane` and checks the answer.
    public init(dataplane: inout Dataplane, network: borrowing NetworkView) throws(Failure) {
        pristine = Self.syn(clientPort: Self.clientPort, isn: Self.clientISN)
        var buffer = SynProxyTopology.makeBuffer()
        let length = Self.restore(pristine, into: &buffer)
        var n = length
        var frame = buffer.mutableSpan
        let verdict = dataplane.process(frame: &frame, length: &n, from: .external, now: Self.now, network: network)
        _ = consume frame
        guard verdict == .transmit(.external), n >= 54, n <= buffer.count else {
            throw Failure(description: "client SYN: \(verdict), expected transmit(external)")
        }
        answer = Array(buffer[0..<n])
        if let problem = Self.problem(answer) { throw Failure(description: "cookie SYN-ACK: \(problem)") }
    }

    /// A client SYN with Linux's options, from 10.210.1.2:`clientPort` to VIP:80.
    public static func syn(clientPort: UInt16, isn: UInt32) -> [UInt8] {
        PacketBuilder()
            .ethernet(src: SynProxyTopology.clientMAC, dst: SynProxyTopology.externalMAC)
            .ipv4(src: SynProxyTopology.client, dst: SynProxyTopology.vip)
            .tcp(
                sport: clientPort, dport: SynProxyTopology.vport, seq: isn, flags: TCPFlag.syn, window: 64240,
                options: [
                    .mss(1460), .sackPermitted, .timestamps(val: clientTSval, ecr: 0), .nop, .windowScale(7),
                ]
            )
            .build()
    }

    /// What is wrong with `answer` as the SYN-ACK to `syn`-from-the-client, or nil.
    static func problem(_ answer: [UInt8]) -> String? {
        if Array(answer[0..<6]) != macBytes(SynProxyTopology.clientMAC) { return "not addressed to the client's MAC" }
        if SynProxyTopology.be32(answer, 26) != SynProxyTopology.vip.v4
            || SynProxyTopology.be32(answer, 30) != SynProxyTopology.client.v4
        {
            return "addresses are not VIP → client"
        }
        if answer[47] != TCPFlag.syn | TCPFlag.ack { return "flags \(answer[47]), expected SYN|ACK" }
        if SynProxyTopology.be32(answer, 42) != clientISN &+ 1 { return "does not acknowledge ISN + 1" }
        return FrameChecker.problem(answer)
    }

    static func macBytes(_ mac: MACAddress) -> [UInt8] {
        (0..<6).map { UInt8(truncatingIfNeeded: mac.value >> (40 - 8 * UInt64($0))) }
    }

    /// Copies `frame` to the start of `buffer` (a UMEM chunk) and returns its length.
    @inlinable
    public static func restore(_ frame: [UInt8], into buffer: inout [UInt8]) -> Int {
        // SluicePacket's copy (the one the data plane uses to replay held segments).
        var chunk = buffer.mutableSpan
        chunk.copyBytes(from: frame.span, sourceOffset: 0, to: 0, count: frame.count)
        return frame.count
    }

    /// Only the restore half of `step` (the harness's share).
    @inlinable
    public func restore(_ buffer: inout [UInt8]) -> Int {
        Self.restore(pristine, into: &buffer)
    }

    /// Restores the SYN into `buffer` and lets `dataplane` answer it.
    @inlinable
    public func step(_ dataplane: inout Dataplane, _ buffer: inout [UInt8], network: borrowing NetworkView) -> Verdict {
        var length = Self.restore(pristine, into: &buffer)
        var frame = buffer.mutableSpan
        return dataplane.process(frame: &frame, length: &length, from: .external, now: Self.now, network: network)
    }
}
