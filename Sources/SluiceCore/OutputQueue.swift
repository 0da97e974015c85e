// Frames the data plane makes itself (RSTs at expiry, SYNs towards real servers, standalone
// headers) do not come from a received UMEM frame. They are written into this preallocated
// queue and the worker copies each into a free UMEM frame at the end of the batch. Generated
// frames are rare next to forwarded ones, so one copy each is the simpler trade.
//
// Two slot classes: `capacity` slots of 2048 bytes for what Sluice builds itself, and a few of 4096
// bytes for held fragments released on a link whose MTU makes frames longer than 2048 bytes
// (FragmentHold.swift). With the default 256 + 8 slots a queue holds 544 KiB, allocated once. A
// held fragment waits in its hold while the queue has no room for it.

/// A fixed-capacity queue of generated frames.
public struct OutputQueue {
    public static let slotSize = 2048
    /// Bytes of a large slot: a frame as long as the largest UMEM frame on 4 KiB pages.
    public static let largeSlotSize = 4096
    @usableFromInline var slots: [[UInt8]]
    @usableFromInline var largeSlots: [[UInt8]]
    /// Per queued frame: the large slot it is in, or -1 for its own regular slot.
    @usableFromInline var largeIndex: [Int]
    @usableFromInline var largeUsed: Int
    @usableFromInline var lengths: [Int]
    @usableFromInline var sides: [Side]
    @usableFromInline var storedCount: Int
    public var count: Int { storedCount }
    public let capacity: Int

    /// A queue of `capacity` frames, `largeCapacity` of which may be longer than `slotSize`.
    public init(capacity: Int, largeCapacity: Int = 8) {
        self.capacity = capacity
        slots = (0..<capacity).map { _ in Array(repeating: 0, count: Self.slotSize) }
        largeSlots = (0..<min(largeCapacity, capacity)).map { _ in Array(repeating: 0, count: Self.largeSlotSize) }
        largeIndex = Array(repeating: -1, count: capacity)
        largeUsed = 0
        lengths = Array(repeating: 0, count: capacity)
        sides = Array(repeating: .external, count: capacity)
        storedCount = 0
    }

    /// True when a frame of `length` bytes can be appended now.
    @inlinable
    public func hasRoom(for length: Int) -> Bool {
        guard storedCount < capacity, length > 0 else { return false }
        return length <= Self.slotSize || (length <= Self.largeSlotSize && largeUsed < largeSlots.count)
    }

    /// Appends a frame built by `body`, which writes into a span of `size` bytes or more (a regular slot
    /// up to `slotSize`, a large one up to `largeSlotSize`) and returns the frame length (0 to abandon).
    /// Returns false when the queue has no room.
    @inlinable
    public mutating func append(side: Side, size: Int = OutputQueue.slotSize, _ body: (inout MutableSpan<UInt8>) -> Int)
        -> Bool
    {
        guard storedCount < capacity else { return false }
        let n: Int
        if size <= Self.slotSize {
            var slot = slots[storedCount].mutableSpan
            n = body(&slot)
            guard n > 0 && n <= Self.slotSize else { return false }
            largeIndex[storedCount] = -1
        } else {
            guard size <= Self.largeSlotSize, largeUsed < largeSlots.count else { return false }
            var slot = largeSlots[largeUsed].mutableSpan
            n = body(&slot)
            guard n > 0 && n <= Self.largeSlotSize else { return false }
            largeIndex[storedCount] = largeUsed
            largeUsed += 1
        }
        lengths[storedCount] = n
        sides[storedCount] = side
        storedCount += 1
        return true
    }

    /// Calls `body` with pending frame `index`.
    @inlinable
    public func withFrame<R>(_ index: Int, _ body: (Span<UInt8>, Side) -> R) -> R {
        let n = lengths[index]
        let side = sides[index]
        let large = largeIndex[index]
        let bytes = large >= 0 ? largeSlots[large] : slots[index]
        let span = bytes.span
        return body(span.extracting(0..<n), side)
    }

    public mutating func removeAll() {
        storedCount = 0
        largeUsed = 0
    }
}
