// Consumer view of a completion ring: UMEM addresses of frames the kernel has finished sending. See
// FillRing.swift for the batch and lifetime contract.

import CXDP

/// Consumer view of an AF_XDP completion ring.
@safe
struct CompletionRing {
    let ring: UnsafeMutablePointer<xsk_ring_cons>

    init(_ ring: UnsafeMutablePointer<xsk_ring_cons>) { unsafe self.ring = ring }

    /// Takes up to `count` completed addresses; returns how many and the first slot's index.
    @inline(__always)
    func peek(upTo count: UInt32) -> (count: UInt32, index: UInt32) {
        var index: UInt32 = 0
        let available = unsafe xsk_ring_cons__peek(ring, count, &index)
        return (available, index)
    }

    /// The frame address in a peeked slot.
    @inline(__always)
    func address(_ index: UInt32) -> UInt64 { unsafe xsk_ring_cons__comp_addr(ring, index)!.pointee }

    /// Gives `count` peeked slots back to the kernel.
    @inline(__always)
    func release(_ count: UInt32) { unsafe xsk_ring_cons__release(ring, count) }
}
