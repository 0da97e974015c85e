// Later fragments that arrived before their datagram's first fragment was translated (docs/protocol.md
// §3 "Fragments"): reordered on the way, or their first fragment is still being translated by another
// worker. The received buffer belongs to the ring and must go back, so the fragment is copied into one
// of this worker's preallocated slots; the data plane retries the fragment table for each held fragment
// every millisecond (`advance`) and at once when it translates a first fragment itself, releases
// the fragments whose datagram it finds (translated, through the output queue), and drops those still
// waiting after `maximumHold`.
//
// Bounded: 64 slots of 4096 bytes (the largest UMEM frame on 4 KiB pages), 256 KiB per worker,
// allocated once. A full hold drops the fragment (`drop_fragment_hold_full`). The hold is short (250 ms)
// because a datagram's fragments travel together and because a flood of orphan fragments, which
// never get a first, must not keep the slots from the real ones for long. Slots are kept packed:
// removing one moves the last into its place (the arrays of bytes swap, no copy).

import SluicePacket

/// One worker's held later fragments.
public struct FragmentHold {
    /// Fragments held at most.
    public static let slotCount = 64
    /// Bytes of one slot: the largest frame a fragment can be held in.
    public static let slotSize = 4096
    /// Milliseconds a fragment waits for its first fragment before it is dropped.
    public static let maximumHold: UInt64 = 250

    @usableFromInline var frames: [[UInt8]]
    @usableFromInline var lengths: [Int]
    @usableFromInline var sides: [Side]
    @usableFromInline var keys: [FragmentKey]
    @usableFromInline var arrivals: [UInt64]
    /// Slots 0..<count are in use.
    @usableFromInline var storedCount: Int
    public var count: Int { storedCount }

    /// A hold of `capacity` slots (0: an empty placeholder that allocates nothing).
    public init(capacity: Int = FragmentHold.slotCount) {
        frames = (0..<capacity).map { _ in [UInt8](repeating: 0, count: Self.slotSize) }
        lengths = [Int](repeating: 0, count: capacity)
        sides = [Side](repeating: .external, count: capacity)
        keys = [FragmentKey](
            repeating: FragmentKey(
                source: .zero(v6: false), destination: .zero(v6: false), identification: 0, transport: 0),
            count: capacity)
        arrivals = [UInt64](repeating: 0, count: capacity)
        storedCount = 0
    }

    /// Slots in all.
    public var capacity: Int { frames.count }

    /// Copies the first `length` bytes of `frame` into a free slot. False when every slot is taken or
    /// the frame is larger than a slot.
    @inlinable
    public mutating func hold(_ frame: Span<UInt8>, length: Int, side: Side, key: FragmentKey, now: UInt64) -> Bool {
        guard storedCount < frames.count, length > 0, length <= Self.slotSize, length <= frame.count else {
            return false
        }
        var slot = frames[storedCount].mutableSpan
        slot.copyBytes(from: frame, sourceOffset: 0, to: 0, count: length)
        lengths[storedCount] = length
        sides[storedCount] = side
        keys[storedCount] = key
        arrivals[storedCount] = now
        storedCount &+= 1
        return true
    }

    /// Frees slot `index`; the last slot moves into its place.
    @inlinable
    public mutating func remove(_ index: Int) {
        let last = storedCount &- 1
        if index != last {
            frames.swapAt(index, last)
            lengths[index] = lengths[last]
            sides[index] = sides[last]
            keys[index] = keys[last]
            arrivals[index] = arrivals[last]
        }
        storedCount = last
    }

    /// The datagram of held fragment `index`.
    @inlinable
    public func key(_ index: Int) -> FragmentKey { keys[index] }

    /// When held fragment `index` arrived (monotonic milliseconds).
    @inlinable
    public func arrival(_ index: Int) -> UInt64 { arrivals[index] }

    /// The side held fragment `index` arrived on.
    @inlinable
    public func side(_ index: Int) -> Side { sides[index] }

    /// The length of held fragment `index`.
    @inlinable
    public func length(_ index: Int) -> Int { lengths[index] }
}
