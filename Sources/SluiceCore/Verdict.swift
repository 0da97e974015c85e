// The data plane's answer for one received frame. It never throws on the hot path: a frame is either
// transmitted (rewritten in place) on one of the worker's two sockets, or dropped with a reason that
// has already been counted (docs/design.md §4.7).

import SluicePacket

/// What to do with a frame after processing.
public enum Verdict: Sendable, Equatable {
    /// Transmit the (rewritten) frame on this side's socket.
    case transmit(Side)
    /// Drop it; the reason has been counted.
    case drop(DropReason)
    /// Another worker owns the frame's connection (docs/design.md §2): pass the frame, untouched, to
    /// worker `index` of the process.
    case handOff(Int)
}
