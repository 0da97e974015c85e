// Client segments held while a SYN-proxied connection waits for the real server's SYN-ACK
// (docs/protocol.md §2 S2/S3). The client believes the connection is open as soon as its ACK leaves,
// so its first ACK (possibly with data) and anything it sends next must wait and be replayed once
// the RS handshake completes (S4). dpvs bounds this per connection (`max_ack_saved`); so does Sluice,
// and also globally, so that a burst of pending connections cannot take more than a fixed budget.
//
// Shape: one preallocated byte array of `slotSize`-byte slots, a metadata array per slot, and a map
// from connection id to the first slot of its list. A connection's segments form a singly linked list
// in arrival order; free slots form a LIFO free list through the same `next` links. Appending walks
// the (≤ 16-long) list to its tail: no tail array is needed. Nothing allocates after init.
//
// The map (`heads`) is sized by the slots, not by the connection table: only a connection holding a
// segment is in it, so it holds at most `slots` ids, and a power of two ≥ 2 · slots keeps its load at
// most 0.5. Open addressing with linear probing from a multiplicative hash of the id, one UInt64 per
// entry (id + 1 in the high half, 0 = empty; the first slot in the low half), deletion by shifting
// later members back. It used to be an Int32 per connection id: 4 bytes of every connection's memory
// for the few connections that wait for their real server (64 KiB at the default 4096 slots instead of
// 4 MB at 10^6 connections). Ids are the table's, not chosen by clients.
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
    /// id → first slot; see the top of the file.
    @usableFromInline var heads: [UInt64]
    @usableFromInline let headMask: Int
    @usableFromInline var freeHead: Int32
    @usableFromInline var freeCount: Int

    /// Number of slots.
    public let slotCount: Int
    /// Connection ids are 0..<connections.
    public let connections: Int

    /// A pool of `slots` slots for connection ids 0..<connections.
    public init(slots: Int, connections: Int) {
        precondition(slots >= 1 && connections >= 1, "the segment queue needs slots and connections")
        slotCount = slots
        self.connections = connections
        storage = Array(repeating: 0, count: slots * Self.slotSize)
        segments = Array(repeating: Segment(), count: slots)
        next = (0..<slots).map { $0 + 1 < slots ? Int32($0 + 1) : -1 }
        var n = 8
        while n < 2 * slots { n <<= 1 }
        heads = Array(repeating: 0, count: n)
        headMask = n - 1
        freeHead = 0
        freeCount = slots
    }

    /// Bytes held by the pool's arrays.
    public var memoryBytes: Int {
        storage.count + segments.count * MemoryLayout<Segment>.stride + next.count * 4 + heads.count * 8
    }

    /// Slots not holding a segment.
    @inlinable
    public var freeSlots: Int { freeCount }

    /// Where `id` starts probing in `heads`.
    @inlinable @inline(__always)
    func home(_ id: ConnectionID) -> Int {
        Int(truncatingIfNeeded: (UInt64(UInt32(bitPattern: id)) &* 0x9E37_79B9_7F4A_7C15) >> 32) & headMask
    }

    /// The position of `id` in `heads`, or of the empty entry where it would go.
    @inlinable
    func position(of id: ConnectionID) -> Int {
        let wanted = UInt64(UInt32(bitPattern: id) &+ 1) << 32
        var i = home(id)
        while true {
            let h = heads[i]
            if h == 0 || h & 0xFFFF_FFFF_0000_0000 == wanted { return i }
            i = (i &+ 1) & headMask
        }
    }

    /// Makes `slot` the first of `id`'s list (the id must not be in the map yet).
    @inlinable
    mutating func setFirst(_ slot: Int32, of id: ConnectionID) {
        heads[position(of: id)] = UInt64(UInt32(bitPattern: id) &+ 1) << 32 | UInt64(UInt32(bitPattern: slot))
    }

    /// Takes `id` out of the map, shifting later members of its probe run back.
    @inlinable
    mutating func removeFirst(of id: ConnectionID) {
        var hole = position(of: id)
        if heads[hole] == 0 { return }
        var j = hole
        while true {
            j = (j &+ 1) & headMask
            let h = heads[j]
            if h == 0 { break }
            let start = home(ConnectionID(truncatingIfNeeded: (h >> 32) &- 1))
            if (j &- start) & headMask >= (j &- hole) & headMask {
                heads[hole] = h
                hole = j
            }
        }
        heads[hole] = 0
    }

    /// The first held segment of `id`, or -1.
    @inlinable
    public func first(of id: ConnectionID) -> Int32 {
        let h = heads[position(of: id)]
        return h == 0 ? -1 : Int32(truncatingIfNeeded: UInt32(truncatingIfNeeded: h))
    }

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
        var slot = first(of: id)
        while slot >= 0 {
            n &+= 1
            slot = next[Int(slot)]
        }
        return n
    }

    /// True when `id` holds a segment with the same sequence range and flags (a retransmission).
    @inlinable
    public func holdsCopy(of segment: Segment, for id: ConnectionID) -> Bool {
        var slot = first(of: id)
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
        var slot = first(of: id)
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
            setFirst(fresh, of: id)
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
        var slot = first(of: id)
        if slot < 0 { return }
        removeFirst(of: id)
        while slot >= 0 {
            let following = next[Int(slot)]
            next[Int(slot)] = freeHead
            freeHead = slot
            freeCount &+= 1
            slot = following
        }
    }
}
