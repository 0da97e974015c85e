// A ring pair in plain heap memory, with the kernel's side played by the test: the same libxdp ring
// structs the runtime uses (a UserRing), so a test can produce rx/completion entries and consume fill/tx
// entries like the kernel does (Firedancer's test_xsk.c approach). The runtime never uses it; tests
// reach it through `@testable import`.

import CXDP

/// A simulated AF_XDP ring whose kernel side is driven by the caller.
@safe
final class SimulatedRing {
    /// Which user-side struct this ring backs.
    enum Kind {
        /// fill or tx: user produces, kernel consumes.
        case producer
        /// rx or completion: kernel produces, user consumes.
        case consumer
    }

    let kind: Kind
    let ring: UserRing
    var size: UInt32 { ring.size }
    var producerRing: UnsafeMutablePointer<xsk_ring_prod> { unsafe ring.producerRing }
    var consumerRing: UnsafeMutablePointer<xsk_ring_cons> { unsafe ring.consumerRing }

    /// - Parameters:
    ///   - kind: who produces.
    ///   - size: entries, a power of two.
    ///   - descriptors: true for rx/tx (entries are `xdp_desc`), false for fill/completion (addresses).
    ///   - start: the initial shared index, to exercise wrap-around.
    init(kind: Kind, size: UInt32, descriptors: Bool, start: UInt32 = 0) {
        self.kind = kind
        self.ring = UserRing(size: size, descriptors: descriptors, start: start)
    }

    /// Entries published by the producer and not yet consumed.
    var occupancy: UInt32 { ring.occupancy }

    /// Sets or clears XDP_RING_NEED_WAKEUP, as the kernel does.
    func setNeedsWakeup(_ on: Bool) {
        unsafe ring.flagsWord.pointee = on ? UInt32(XDP_RING_NEED_WAKEUP) : 0
    }

    /// Kernel side of a consumer ring (rx/completion): publishes one entry. False when the ring is full.
    @discardableResult
    func kernelProduce(address: UInt64, length: UInt32 = 0) -> Bool {
        precondition(kind == .consumer)
        guard occupancy < size else { return false }
        let slot = Int(unsafe ring.producerWord.pointee & (size - 1))
        if ring.holdsDescriptors {
            unsafe ring.entries.storeBytes(
                of: xdp_desc(addr: address, len: length, options: 0),
                toByteOffset: slot * MemoryLayout<xdp_desc>.stride, as: xdp_desc.self)
        } else {
            unsafe ring.entries.storeBytes(of: address, toByteOffset: slot * 8, as: UInt64.self)
        }
        unsafe ring.producerWord.pointee &+= 1  // wraps
        return true
    }

    /// Kernel side of a producer ring (fill/tx): takes up to `limit` published entries.
    func kernelConsume(limit: Int = .max) -> [(address: UInt64, length: UInt32)] {
        precondition(kind == .producer)
        var taken: [(address: UInt64, length: UInt32)] = []
        while taken.count < limit, occupancy > 0 {
            let slot = Int(unsafe ring.consumerWord.pointee & (size - 1))
            if ring.holdsDescriptors {
                let descriptor = unsafe ring.entries.load(
                    fromByteOffset: slot * MemoryLayout<xdp_desc>.stride, as: xdp_desc.self)
                taken.append((descriptor.addr, descriptor.len))
            } else {
                taken.append((unsafe ring.entries.load(fromByteOffset: slot * 8, as: UInt64.self), 0))
            }
            unsafe ring.consumerWord.pointee &+= 1  // wraps
        }
        return taken
    }
}
