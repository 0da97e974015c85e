// The worker loop is generic over what processes a frame so that its ring handling can be tested with a
// scripted processor on simulated rings. In the runtime the only conformer is SluiceCore's `Dataplane`,
// and the loop is specialised for it inside this module (no existential, no dynamic dispatch per packet).
// The requirements are exactly the Dataplane contract (Sources/SluiceCore/Dataplane.swift).

import SluiceCore
import SluicePacket

/// What the worker loop needs from a data plane.
public protocol FrameProcessor: ~Copyable, SendableMetatype {
    /// Per-worker counters; the loop adds its own transmit-path drops here and publishes them.
    var counters: Counters { get set }

    /// Swaps in a new configuration (called at a batch boundary).
    mutating func apply(configuration: DataplaneConfiguration)

    /// Processes one frame in place; see `Dataplane.process`. `handedOff` is true for a frame another
    /// worker received and passed to this one (it must not be handed on).
    mutating func process(
        frame: inout MutableSpan<UInt8>, length: inout Int, from side: Side, now: UInt64,
        network: borrowing NetworkView, handedOff: Bool
    ) -> Verdict

    /// Runs timers; `network` lets timer-driven frames (SYN-proxy retransmissions) resolve their egress.
    mutating func advance(now: UInt64, network: borrowing NetworkView)

    /// Generated frames waiting to be sent.
    var pendingOutputCount: Int { get }
    /// Calls `body` with pending output `index`.
    func withPendingOutput<R>(_ index: Int, _ body: (Span<UInt8>, Side) -> R) -> R
    /// Forgets all pending output.
    mutating func clearPendingOutput()

    /// Next hops that need neighbour resolution.
    var pendingResolutionCount: Int { get }
    /// Pending resolution `index`.
    func pendingResolution(_ index: Int) -> (address: IPAddress, interfaceIndex: Int32)
    /// Forgets all pending resolutions.
    mutating func clearPendingResolutions()

    /// Starts a new SYN-cookie key generation (the runtime rotates keys every 120 s); see
    /// `Dataplane.rotateSynCookieKey`.
    mutating func rotateSynCookieKey(_ key: (UInt64, UInt64))
}

extension FrameProcessor where Self: ~Copyable {
    /// Processors without SYN cookies ignore key rotations.
    public mutating func rotateSynCookieKey(_ key: (UInt64, UInt64)) {}
}

extension Dataplane: FrameProcessor {}
