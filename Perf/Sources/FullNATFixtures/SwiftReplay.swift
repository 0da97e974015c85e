// The per-packet step both the benchmark and the callgrind probe time: restore one prebuilt frame into a
// UMEM-chunk-sized buffer and hand it to `Dataplane.process`, as a worker hands over a received frame.
//
// Building a replay does the unmeasured work once: a fresh data plane, the three-way handshake, and a
// byte-for-byte comparison of the Swift output with the C reference's output for the same input (the
// Swift/C ratio only means something if both did the same rewrite). `step()` is @inlinable so that the
// caller's loop holds the restore and the call into SluiceCore, and nothing else.

import SluiceCore
import SluicePacket

/// One established connection and the data segment to replay on it. The data plane, the frame buffer
/// and the network view stay with the caller as separate locals, so that `step` can borrow the view and
/// the buffer while it mutates the data plane.
public struct SwiftReplay: Sendable {
    /// Monotonic milliseconds handed to the data plane; constant, so no timer fires while replaying.
    public static let now: UInt64 = 1_000_000
    /// Keys the connection-table hash (the C reference uses the same key).
    public static let secret: (UInt64, UInt64) = (0x0123_4567_89AB_CDEF, 0x0F1E_2D3C_4B5A_6978)

    /// The frame restored before every step.
    public let pristine: [UInt8]
    /// The side it arrives on.
    public let side: Side
    /// The established connection (its local port and sequence offset).
    public let flow: EstablishedFlow

    /// Establishes the connection in `dataplane` and checks the Swift rewrite against the C reference
    /// (which is left loaded with the same connection and frames).
    /// - Parameter inbound: replay the client → VIP segment (true) or the real server → LIP one.
    public init(inbound: Bool, dataplane: inout Dataplane, network: borrowing NetworkView)
        throws(EstablishedFlow.Failure)
    {
        flow = try EstablishedFlow.establish(&dataplane, network: network, now: Self.now)
        pristine = inbound ? flow.inbound : flow.outbound
        side = inbound ? .external : .internal

        let swiftOut = EstablishedFlow.run(&dataplane, pristine, from: side, now: Self.now, network: network)
        CReference.load(flow, secret: Self.secret)
        let cOut = CReference.runOnce(CReference.direction(inbound: inbound), now: Self.now)
        if let difference = CReference.difference(c: cOut, swift: swiftOut) {
            throw EstablishedFlow.Failure(description: "C reference and Swift disagree: \(difference)")
        }
    }

    /// The data plane the benchmark uses: worker 0 of 1, the topology's interfaces and secret.
    public static func makeDataplane() -> Dataplane {
        Dataplane(
            configuration: BenchTopology.configuration(), worker: 0, workerCount: 1,
            externalInterface: BenchTopology.externalIndex, internalInterface: BenchTopology.internalIndex,
            secret: secret)
    }

    /// A zeroed buffer of one UMEM chunk.
    public static func makeBuffer() -> [UInt8] {
        [UInt8](repeating: 0, count: EstablishedFlow.chunkSize)
    }

    /// Only the restore half of `step`, exactly as `step` does it (for measuring the harness's share).
    @inlinable
    public func restore(_ buffer: inout [UInt8]) -> Int {
        buffer.replaceSubrange(0..<pristine.count, with: pristine)
        let frame = buffer.mutableSpan
        return frame.count
    }

    /// Restores the pristine frame into `buffer` and processes it once.
    @inlinable
    public func step(_ dataplane: inout Dataplane, _ buffer: inout [UInt8], network: borrowing NetworkView) -> Verdict {
        // Same count into a uniquely referenced array: an in-place copy, no allocation.
        buffer.replaceSubrange(0..<pristine.count, with: pristine)
        var length = pristine.count
        var frame = buffer.mutableSpan
        return dataplane.process(frame: &frame, length: &length, from: side, now: Self.now, network: network)
    }
}
