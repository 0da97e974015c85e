// Frames the data plane makes itself (RSTs at expiry, SYNs towards real servers, standalone
// headers) do not come from a received UMEM frame. They are written into this preallocated
// queue and the worker copies each into a free UMEM frame at the end of the batch. Generated
// frames are rare next to forwarded ones, so one copy each is the simpler trade.

/// A fixed-capacity queue of generated frames.
public struct OutputQueue {
    public static let slotSize = 2048
    @usableFromInline var slots: [[UInt8]]
    @usableFromInline var lengths: [Int]
    @usableFromInline var sides: [Side]
    @usableFromInline var storedCount: Int
    public var count: Int { storedCount }
    public let capacity: Int

    public init(capacity: Int) {
        self.capacity = capacity
        slots = (0..<capacity).map { _ in Array(repeating: 0, count: Self.slotSize) }
        lengths = Array(repeating: 0, count: capacity)
        sides = Array(repeating: .external, count: capacity)
        storedCount = 0
    }

    /// Appends a frame built by `body`, which writes into a `slotSize` span and returns the frame
    /// length (0 to abandon). Returns false when the queue is full.
    @inlinable
    public mutating func append(side: Side, _ body: (inout MutableSpan<UInt8>) -> Int) -> Bool {
        guard storedCount < capacity else { return false }
        var slot = slots[storedCount].mutableSpan
        let n = body(&slot)
        guard n > 0 && n <= Self.slotSize else { return false }
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
        let bytes = slots[index]
        let span = bytes.span
        return body(span.extracting(0..<n), side)
    }

    public mutating func removeAll() { storedCount = 0 }
}
