// A single-producer single-consumer ring in process memory with the layout of an AF_XDP ring, so that
// libxdp's inline ring functions (reserve/submit, peek/release: release stores and acquire loads of the
// shared indices) work on it unchanged and the worker loop moves entries with the same `TxRing`, `RxRing`,
// `FillRing` and `CompletionRing` views it uses for the kernel's rings.
//
// Used two ways: between two workers (hand-off of frames and their return, HandOffMesh.swift), where one
// thread produces and another consumes; and by tests, where SimulatedRing plays the kernel's side.
//
// The producer and consumer indices sit on separate cache lines: each is written by one thread only,
// and sharing a line would make every publish invalidate the other side's cached copy. The user-side
// structs are initialised as libxdp's xsk_socket__create does: for the producer view
// `cached_cons = consumer + size` (the free-space trick in xsk_prod_nb_free), for the consumer view the
// cached indices equal the shared ones. Memory is allocated once and never moves.

import CXDP

/// An AF_XDP-layout ring in heap memory with both a producer and a consumer view.
@safe
final class UserRing: @unchecked Sendable {
    /// Bytes between the two shared indices (one cache line each).
    private static let cacheLine = 64

    let size: UInt32
    /// True when entries are `xdp_desc` (rx/tx style), false for frame addresses (fill/completion style).
    let holdsDescriptors: Bool
    private let words: UnsafeMutableRawPointer
    let producerWord: UnsafeMutablePointer<UInt32>
    let consumerWord: UnsafeMutablePointer<UInt32>
    let flagsWord: UnsafeMutablePointer<UInt32>
    let entries: UnsafeMutableRawPointer
    /// The producer's view (reserve, write, submit).
    let producerRing: UnsafeMutablePointer<xsk_ring_prod>
    /// The consumer's view (peek, read, release).
    let consumerRing: UnsafeMutablePointer<xsk_ring_cons>

    /// - Parameters:
    ///   - size: entries, a power of two.
    ///   - descriptors: true for `xdp_desc` entries, false for UInt64 addresses.
    ///   - start: the initial shared index (tests use it to exercise wrap-around).
    init(size: UInt32, descriptors: Bool, start: UInt32 = 0) {
        precondition(size.nonzeroBitCount == 1, "ring size must be a power of two")
        self.size = size
        self.holdsDescriptors = descriptors
        unsafe words = .allocate(byteCount: 3 * Self.cacheLine, alignment: Self.cacheLine)
        unsafe words.initializeMemory(as: UInt8.self, repeating: 0, count: 3 * Self.cacheLine)
        unsafe producerWord = words.bindMemory(to: UInt32.self, capacity: 1)
        unsafe consumerWord = (words + Self.cacheLine).bindMemory(to: UInt32.self, capacity: 1)
        unsafe flagsWord = (words + 2 * Self.cacheLine).bindMemory(to: UInt32.self, capacity: 1)
        unsafe producerWord.pointee = start
        unsafe consumerWord.pointee = start
        let stride = descriptors ? MemoryLayout<xdp_desc>.stride : MemoryLayout<UInt64>.stride
        unsafe entries = .allocate(byteCount: Int(size) * stride, alignment: Self.cacheLine)
        unsafe entries.initializeMemory(as: UInt8.self, repeating: 0, count: Int(size) * stride)
        unsafe producerRing = .allocate(capacity: 1)
        unsafe consumerRing = .allocate(capacity: 1)
        unsafe producerRing.initialize(
            to: xsk_ring_prod(
                cached_prod: start, cached_cons: start &+ size, mask: size - 1, size: size,  // wraps, like libxdp's
                producer: producerWord, consumer: consumerWord, ring: entries, flags: flagsWord))
        unsafe consumerRing.initialize(
            to: xsk_ring_cons(
                cached_prod: start, cached_cons: start, mask: size - 1, size: size,
                producer: producerWord, consumer: consumerWord, ring: entries, flags: flagsWord))
    }

    deinit {
        unsafe words.deallocate()
        unsafe entries.deallocate()
        unsafe producerRing.deallocate()
        unsafe consumerRing.deallocate()
    }

    /// Entries published by the producer and not yet released by the consumer (a racy snapshot when the
    /// two sides run on other threads).
    var occupancy: UInt32 { unsafe producerWord.pointee &- consumerWord.pointee }  // indices wrap
}
