// Producer view of a tx ring: descriptors (UMEM address + length) handed to the kernel for sending.
// See FillRing.swift for the batch and lifetime contract.

import CXDP

/// Producer view of an AF_XDP tx ring.
@safe
struct TxRing {
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

    /// Writes a descriptor into a reserved slot. `options` is 0 for the kernel; a hand-off ring between
    /// workers carries the frame's arrival side there.
    @inline(__always)
    func set(_ index: UInt32, address: UInt64, length: UInt32, options: UInt32 = 0) {
        let descriptor = unsafe xsk_ring_prod__tx_desc(ring, index)!
        unsafe descriptor.pointee.addr = address
        unsafe descriptor.pointee.len = length
        unsafe descriptor.pointee.options = options
    }

    /// Publishes `count` written slots to the kernel.
    @inline(__always)
    func submit(_ count: UInt32) { unsafe xsk_ring_prod__submit(ring, count) }

    /// True when the kernel needs a `sendto` kick to look at the ring (always, in copy mode).
    @inline(__always)
    var needsWakeup: Bool { unsafe xsk_ring_prod__needs_wakeup(ring) != 0 }

    /// True while descriptors published here wait for the kernel to take them.
    @inline(__always)
    var hasUnconsumed: Bool { unsafe cxdp_prod_unconsumed(ring) != 0 }
}
