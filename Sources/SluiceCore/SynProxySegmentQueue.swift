// Client segments held while a SYN-proxied connection waits for the real server's SYN-ACK
// (docs/protocol.md §2 S2/S3). The client believes the connection is open as soon as its ACK leaves,
// so its first ACK (possibly with data) and anything it sends next must wait and be replayed once
// the RS handshake completes (S4). dpvs bounds this per connection (`max_ack_saved`); so does Sluice,
// and also globally, so that a burst of pending connections cannot take more than a fixed budget.
//
// Shape: one preallocated byte array of `slotSize`-byte slots, a metadata array per slot, and a
// head index per connection id. A connection's segments form a singly linked list in arrival order;
// free slots form a LIFO free list through the same `next` links. Appending walks the (≤ 16-long)
// list to its tail: no tail array is needed. Nothing allocates after init.
//
// The metadata (sequence range, flags, window, TSval) is what the data plane needs to deduplicate
// retransmissions, to answer with the client's SND.NXT, and to build the RS SYN, without parsing
// the held bytes again.

import SluicePacket

/// A fixed pool of held client segments, chained per connection.
public struct SynProxySegmentQueue {
    /// Bytes per slot: a full Ethernet frame of a 1500-byte MTU (with a VLAN tag) fits.
    public static let slotSize = 2048

    @usableFromInline var storage: [UInt8]
    @usableFromInline var segments: [Segment]
    @usableFromInline var next: [Int32]
    @usableFromInline var heads: [Int32]
    @usableFromInline var freeHead: Int32
    @usableFromInline var freeCount: Int

    /// Number of slots.
    public let slotCount: Int

    /// A pool of `slots` slots for connection ids 0..<connections.
    public init(slots: Int, connections: Int) {
        precondition(slots >= 1 && connections >= 1, "the segment queue needs slots and connections")
        slotCount = slots
        storage = Array(repeating: 0, count: slots * Self.slotSize)
        segments = Array(repeating: Segment(), count: slots)
        next = (0..<slots).map { $0 + 1 < slots ? Int32($0 + 1) : -1 }
        heads = Array(repeating: -1, count: connections)
        freeHead = 0
        freeCount = slots
    }

    /// Slots not holding a segment.
    @inlinable
    public var freeSlots: Int { freeCount }

    /// The first held segment of `id`, or -1.
    @inlinable
    public func first(of id: ConnectionID) -> Int32 { heads[Int(id)] }

    /// The segment after `slot` in its connection's list, or -1.
    @inlinable
    public func next(after slot: Int32) -> Int32 { next[Int(slot)] }

    /// The metadata of a held segment.
    @inlinable
    public subscript(slot: Int32) -> Segment { segments[Int(slot)] }

    /// Number of segments held for `id`.
    @inlinable
    public func count(of id: ConnectionID) -> Int {
        var n = 0
        var slot = heads[Int(id)]
        while slot >= 0 {
            n &+= 1
            slot = next[Int(slot)]
        }
        return n
    }

    /// True when `id` holds a segment with the same sequence range and flags (a retransmission).
    @inlinable
    public func holdsCopy(of segment: Segment, for id: ConnectionID) -> Bool {
        var slot = heads[Int(id)]
        while slot >= 0 {
            let s = segments[Int(slot)]
            if s.sequence == segment.sequence && s.end == segment.end && s.flags == segment.flags { return true }
            slot = next[Int(slot)]
        }
        return false
    }

    /// Copies the first `segment.length` bytes of `frame` to the tail of `id`'s list.
    /// - Returns: false when no slot is free, the frame is larger than a slot, or `id` already holds
    ///   `limit` segments.
    @inlinable
    public mutating func append(_ id: ConnectionID, frame: Span<UInt8>, segment: Segment, limit: Int) -> Bool {
        let length = Int(segment.length)
        guard freeHead >= 0, length > 0, length <= Self.slotSize, length <= frame.count else { return false }
        var tail: Int32 = -1
        var held = 0
        var slot = heads[Int(id)]
        while slot >= 0 {
            tail = slot
            held &+= 1
            slot = next[Int(slot)]
        }
        guard held < limit else { return false }
        let fresh = freeHead
        freeHead = next[Int(fresh)]
        freeCount &-= 1
        next[Int(fresh)] = -1
        segments[Int(fresh)] = segment
        var bytes = storage.mutableSpan
        bytes.copyBytes(from: frame, sourceOffset: 0, to: Int(fresh) &* Self.slotSize, count: length)
        if tail >= 0 {
            next[Int(tail)] = fresh
        } else {
            heads[Int(id)] = fresh
        }
        return true
    }

    /// Copies held segment `slot` to the start of `frame`.
    /// - Returns: its length, or 0 when `frame` is too small.
    @inlinable
    public func copy(_ slot: Int32, into frame: inout MutableSpan<UInt8>) -> Int {
        let length = Int(segments[Int(slot)].length)
        guard length <= frame.count else { return 0 }
        frame.copyBytes(from: storage.span, sourceOffset: Int(slot) &* Self.slotSize, to: 0, count: length)
        return length
    }

    /// Frees every segment held for `id`.
    @inlinable
    public mutating func removeAll(of id: ConnectionID) {
        var slot = heads[Int(id)]
        heads[Int(id)] = -1
        while slot >= 0 {
            let following = next[Int(slot)]
            next[Int(slot)] = freeHead
            freeHead = slot
            freeCount &+= 1
            slot = following
        }
    }
}
