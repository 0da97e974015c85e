// Consumer view of an rx ring: frames the kernel received into UMEM. See FillRing.swift for the batch and
// lifetime contract.

import CXDP

/// Consumer view of an AF_XDP rx ring.
@safe
struct RxRing {
    let ring: UnsafeMutablePointer<xsk_ring_cons>

    init(_ ring: UnsafeMutablePointer<xsk_ring_cons>) { unsafe self.ring = ring }

    /// Takes up to `count` received descriptors; returns how many and the first slot's index.
    @inline(__always)
    func peek(upTo count: UInt32) -> (count: UInt32, index: UInt32) {
        var index: UInt32 = 0
        let available = unsafe xsk_ring_cons__peek(ring, count, &index)
        return (available, index)
    }

    /// The descriptor in a peeked slot: UMEM address of the first byte, and length.
    @inline(__always)
    func descriptor(_ index: UInt32) -> (address: UInt64, length: UInt32) {
        let descriptor = unsafe xsk_ring_cons__rx_desc(ring, index)!
        return unsafe (descriptor.pointee.addr, descriptor.pointee.len)
    }

    /// The options word of a peeked slot (a hand-off ring's arrival side; 0 from the kernel).
    @inline(__always)
    func options(_ index: UInt32) -> UInt32 { unsafe xsk_ring_cons__rx_desc(ring, index)!.pointee.options }

    /// Gives `count` peeked slots back to the kernel (release store of the consumer index).
    @inline(__always)
    func release(_ count: UInt32) { unsafe xsk_ring_cons__release(ring, count) }
}
