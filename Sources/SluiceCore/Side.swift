// A worker owns two sockets: one on the external interface (VIP traffic) and one on the internal
// interface (real servers). With a single interface both sides are the same device.

import SluicePacket

/// Which of a worker's two interfaces a frame came from or leaves through.
public enum Side: UInt8, Sendable, Hashable {
    case external = 0
    case `internal` = 1
}

/// What to do with a frame after processing.
public enum Verdict: Sendable, Equatable {
    /// Transmit the (rewritten) frame on this side's socket.
    case transmit(Side)
    /// Drop it; the reason has been counted.
    case drop(DropReason)
}
