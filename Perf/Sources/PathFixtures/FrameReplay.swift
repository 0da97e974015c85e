// One prebuilt frame replayed through `Dataplane.process`: restore it into a UMEM-chunk-sized buffer,
// process it, and compare the verdict with the one the fixture expects. It is the step every
// `Dataplane`-level benchmark of PathBenchmarks times (ICMP translation, TOA and PROXY insertion on
// the handshake-completing ACK and the first data segment).
//
// The frame must leave the data plane's state as it found it (an ICMP error, a segment of an
// established connection): then the same bytes can be processed 10^6 times and every iteration
// does the same work. Fixtures that cannot be replayed that way say so and use their own loop.
//
// The restore is `Array.replaceSubrange` with the same count into a uniquely referenced buffer: an
// in-place memcpy, no allocation (one retain/release of the pristine array, as in FullNATFixtures'
// SwiftReplay); `restore` alone measures its share, which a worker handed its UMEM frame does not pay.

import SluiceCore
import SluicePacket

/// A pristine frame, the side it arrives on, and the verdict it must get.
public struct FrameReplay: Sendable {
    /// The frame restored before every step.
    public let pristine: [UInt8]
    /// The interface side it arrives on.
    public let side: Side
    /// The verdict every step must return.
    public let expected: Verdict
    /// Monotonic milliseconds handed to the data plane (constant: no timer fires while replaying).
    public let now: UInt64

    public init(pristine: [UInt8], side: Side, expected: Verdict, now: UInt64) {
        self.pristine = pristine
        self.side = side
        self.expected = expected
        self.now = now
    }

    /// Copies the pristine frame into `buffer` (the harness's share of a step). Returns its length.
    @inlinable
    public func restore(_ buffer: inout [UInt8]) -> Int {
        buffer.replaceSubrange(0..<pristine.count, with: pristine)
        return pristine.count
    }

    /// Restores the frame and processes it once; true when the verdict is the expected one.
    @inlinable
    public func step(_ dataplane: inout Dataplane, _ buffer: inout [UInt8], network: borrowing NetworkView) -> Bool {
        var length = restore(&buffer)
        var frame = buffer.mutableSpan
        return dataplane.process(frame: &frame, length: &length, from: side, now: now, network: network) == expected
    }

    /// Processes the frame once and returns the verdict and the output bytes (for set-up checks).
    public func runOnce(_ dataplane: inout Dataplane, network: borrowing NetworkView) -> (Verdict, [UInt8]) {
        PathWorld.run(&dataplane, pristine, from: side, now: now, network: network)
    }
}
