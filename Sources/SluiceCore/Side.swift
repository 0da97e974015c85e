// A worker owns two sockets: one on the external interface (VIP traffic) and one on the internal
// interface (real servers). With a single interface both sides are the same device.

/// Which of a worker's two interfaces a frame came from or leaves through.
public enum Side: UInt8, Sendable, Hashable {
    case external = 0
    case `internal` = 1
}
