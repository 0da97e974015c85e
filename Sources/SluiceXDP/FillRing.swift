// The four AF_XDP rings as thin views over libxdp's `xsk_ring_prod`/`xsk_ring_cons` structs, named by who
// owns a frame afterwards (fd_xsk): the fill ring hands free frames to the kernel, the rx ring gives
// received frames to us, the tx ring hands frames to the kernel for sending, the completion ring gives sent
// frames back. The inline helpers of <xdp/xsk.h> do the index arithmetic and the acquire/release ordering
// ("everything written before the producer store"); they inline into these methods.
//
// Batch contract (all rings): `reserve`/`peek` return n ≤ requested; slots [index, index + n) are the
// caller's until `submit(n)` / `release(n)`. Indices are free-running UInt32 that wrap (the helpers mask
// them), so index arithmetic uses &+.
//
// The ring structs live at stable heap addresses owned by an `XSKSocket` or `Umem` (libxdp keeps the
// pointers); a view must not outlive its owner, which the runtime guarantees by joining workers before it
// releases sockets.

import CXDP

/// Producer view of a fill ring: free frame addresses handed to the kernel for receiving.
@safe
struct FillRing {
    let ring: UnsafeMutablePointer<xsk_ring_prod>

    init(_ ring: UnsafeMutablePointer<xsk_ring_prod>) { unsafe self.ring = ring }

    /// Reserves up to `count` slots; returns how many and the first slot's index.
    @inline(__always)
    func reserve(upTo count: UInt32) -> (count: UInt32, index: UInt32) {
        let free = unsafe xsk_prod_nb_free(ring, count)
        let granted = min(free, count)
        guard granted > 0 else { return (0, 0) }
        var index: UInt32 = 0
        let reserved = unsafe xsk_ring_prod__reserve(ring, granted, &index)
        return (reserved, index)
    }

    /// Writes a frame address into a reserved slot.
    @inline(__always)
    func set(_ index: UInt32, address: UInt64) {
        unsafe xsk_ring_prod__fill_addr(ring, index)!.pointee = address
    }

    /// Publishes `count` written slots to the kernel (release store of the producer index).
    @inline(__always)
    func submit(_ count: UInt32) { unsafe xsk_ring_prod__submit(ring, count) }

    /// True when the kernel asks for a wakeup (poll or recvfrom) before it refills from this ring.
    @inline(__always)
    var needsWakeup: Bool { unsafe xsk_ring_prod__needs_wakeup(ring) != 0 }
}
