// The result of resolving where a rewritten frame leaves: which of the worker's sockets, the
// link-layer addresses to write, and the MTU the frame must fit.

/// Where and how a frame leaves the worker.
@usableFromInline
struct Egress {
    @usableFromInline var side: Side = .external
    @usableFromInline var destinationMAC: UInt64 = 0
    @usableFromInline var sourceMAC: UInt64 = 0
    @usableFromInline var mtu: Int = 1500

    @inlinable
    init() {}
}
