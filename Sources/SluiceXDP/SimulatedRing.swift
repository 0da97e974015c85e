// A ring pair in plain heap memory, with the kernel's side played by the test: the same libxdp ring
// structs the runtime uses, but `producer`, `consumer` and `flags` point at words this type owns, so a test
// can produce rx/completion entries and consume fill/tx entries like the kernel does (Firedancer's
// test_xsk.c approach). The runtime never uses it; tests reach it through `@testable import`.
//
// The user-side struct is initialised as libxdp's xsk_create_umem_rings / xsk_socket__create do: for
// producer rings `cached_cons = consumer + size` (the free-space trick in xsk_prod_nb_free), for consumer
// rings the cached indices equal the shared ones.

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
    let size: UInt32
    private let producerWord: UnsafeMutablePointer<UInt32>
    private let consumerWord: UnsafeMutablePointer<UInt32>
    private let flagsWord: UnsafeMutablePointer<UInt32>
    /// Entries: UInt64 addresses for fill/completion, xdp_desc for rx/tx (16 bytes covers both).
    private let entries: UnsafeMutableRawPointer
    private let isDescriptorRing: Bool
    let producerRing: UnsafeMutablePointer<xsk_ring_prod>
    let consumerRing: UnsafeMutablePointer<xsk_ring_cons>

    /// - Parameters:
    ///   - kind: who produces.
    ///   - size: entries, a power of two.
    ///   - descriptors: true for rx/tx (entries are `xdp_desc`), false for fill/completion (addresses).
    ///   - start: the initial shared index, to exercise wrap-around.
    init(kind: Kind, size: UInt32, descriptors: Bool, start: UInt32 = 0) {
        precondition(size.nonzeroBitCount == 1, "ring size must be a power of two")
        self.kind = kind
        self.size = size
        self.isDescriptorRing = descriptors
        unsafe producerWord = .allocate(capacity: 1)
        unsafe consumerWord = .allocate(capacity: 1)
        unsafe flagsWord = .allocate(capacity: 1)
        unsafe producerWord.initialize(to: start)
        unsafe consumerWord.initialize(to: start)
        unsafe flagsWord.initialize(to: 0)
        let stride = descriptors ? MemoryLayout<xdp_desc>.stride : MemoryLayout<UInt64>.stride
        unsafe entries = .allocate(byteCount: Int(size) * stride, alignment: 16)
        unsafe entries.initializeMemory(as: UInt8.self, repeating: 0, count: Int(size) * stride)
        unsafe producerRing = .allocate(capacity: 1)
        unsafe consumerRing = .allocate(capacity: 1)
        let cachedConsumer = kind == .producer ? start &+ size : start  // wraps, like libxdp's
        unsafe producerRing.initialize(
            to: xsk_ring_prod(
                cached_prod: start, cached_cons: cachedConsumer, mask: size - 1, size: size,
                producer: producerWord, consumer: consumerWord, ring: entries, flags: flagsWord))
        unsafe consumerRing.initialize(
            to: xsk_ring_cons(
                cached_prod: start, cached_cons: start, mask: size - 1, size: size,
                producer: producerWord, consumer: consumerWord, ring: entries, flags: flagsWord))
    }

    deinit {
        unsafe producerWord.deallocate()
        unsafe consumerWord.deallocate()
        unsafe flagsWord.deallocate()
        unsafe entries.deallocate()
        unsafe producerRing.deallocate()
        unsafe consumerRing.deallocate()
    }

    /// Entries published by the producer and not yet consumed.
    var occupancy: UInt32 { unsafe producerWord.pointee &- consumerWord.pointee }  // indices wrap

    /// Sets or clears XDP_RING_NEED_WAKEUP, as the kernel does.
    func setNeedsWakeup(_ on: Bool) {
        unsafe flagsWord.pointee = on ? UInt32(XDP_RING_NEED_WAKEUP) : 0
    }

    /// Kernel side of a consumer ring (rx/completion): publishes one entry. False when the ring is full.
    @discardableResult
    func kernelProduce(address: UInt64, length: UInt32 = 0) -> Bool {
        precondition(kind == .consumer)
        guard occupancy < size else { return false }
        let slot = Int(unsafe producerWord.pointee & (size - 1))
        if isDescriptorRing {
            unsafe entries.storeBytes(
                of: xdp_desc(addr: address, len: length, options: 0),
                toByteOffset: slot * MemoryLayout<xdp_desc>.stride, as: xdp_desc.self)
        } else {
            unsafe entries.storeBytes(of: address, toByteOffset: slot * 8, as: UInt64.self)
        }
        unsafe producerWord.pointee &+= 1  // wraps
        return true
    }

    /// Kernel side of a producer ring (fill/tx): takes up to `limit` published entries.
    func kernelConsume(limit: Int = .max) -> [(address: UInt64, length: UInt32)] {
        precondition(kind == .producer)
        var taken: [(address: UInt64, length: UInt32)] = []
        while taken.count < limit, occupancy > 0 {
            let slot = Int(unsafe consumerWord.pointee & (size - 1))
            if isDescriptorRing {
                let descriptor = unsafe entries.load(
                    fromByteOffset: slot * MemoryLayout<xdp_desc>.stride, as: xdp_desc.self)
                taken.append((descriptor.addr, descriptor.len))
            } else {
                taken.append((unsafe entries.load(fromByteOffset: slot * 8, as: UInt64.self), 0))
            }
            unsafe consumerWord.pointee &+= 1  // wraps
        }
        return taken
    }
}
