// Connection expiry (docs/protocol.md §5) with a hashed timer wheel (Varghese & Lauck, 1987) driven by
// the caller's clock: nothing here reads time, so tests advance a ManualClock and the worker passes
// its monotonic milliseconds.
//
// Shape:
// - One intrusive doubly-linked list per slot, threaded through a preallocated `links` array indexed
//   by ConnectionID (next, prev, deadline tick: 16 bytes per connection). Scheduling, cancelling and
//   expiring are O(1) and never allocate.
// - A deadline is rounded *up* to a tick (`slotMilliseconds`), so an entry never fires early; it
//   fires at the first advance that reaches its tick, at most one tick late. Deadlines beyond one
//   revolution stay in their slot and are skipped until their round comes (the stored tick is
//   compared on every visit).
// - Lazy re-arm: the data plane refreshes a connection per packet by writing `expiresAt` in the
//   table entry only. When the wheel reports the id, the caller compares `expiresAt` with `now` and
//   either expires the connection or schedules it again. This keeps wheel work per connection
//   proportional to its idle periods, not to its packets (the same trick as dpvs's timer refresh).
// - `nextExpired(now:)` hands out due ids one at a time, so the caller may cancel or reschedule
//   (including the id just returned) between calls; `advance(to:expired:)` is the closure form.
//   A jump of more than a revolution visits each slot once instead of every tick in between.

/// A hashed timer wheel for connection ids.
public struct TimerWheel: ~Copyable {
    @usableFromInline
    struct Link {
        @usableFromInline var next: Int32
        @usableFromInline var prev: Int32
        @usableFromInline var tick: UInt64

        @inlinable
        init(next: Int32, prev: Int32, tick: UInt64) {
            self.next = next
            self.prev = prev
            self.tick = tick
        }
    }

    /// `prev` of an id that is not scheduled.
    @usableFromInline static var unscheduled: Int32 { -2 }

    @usableFromInline var links: [Link]
    @usableFromInline var heads: [Int32]
    @usableFromInline let slotMask: Int
    /// Tick length in milliseconds.
    public let slotMilliseconds: UInt64
    /// Every tick ≤ lastTick has been drained.
    @usableFromInline var lastTick: UInt64
    /// True while the slot of `drainTick` (= lastTick + 1) is being walked by `nextExpired`.
    @usableFromInline var draining: Bool
    @usableFromInline var drainTick: UInt64
    /// Next id to examine in the slot being drained (-1 = end).
    @usableFromInline var cursor: Int32
    @usableFromInline var scheduledCount: Int

    /// Creates a wheel for ids 0..<capacity.
    /// - Parameters:
    ///   - capacity: number of ids (the connection table's capacity).
    ///   - slotMilliseconds: tick length; the expiry resolution.
    ///   - slots: slots per revolution, rounded up to a power of two.
    public init(capacity: Int, slotMilliseconds: UInt64 = 100, slots: Int = 4096) {
        precondition(capacity >= 0 && capacity <= Int(Int32.max), "timer capacity out of range")
        precondition(slotMilliseconds > 0 && slots > 0, "timer wheel needs a tick and at least one slot")
        var n = 1
        while n < slots { n <<= 1 }
        self.slotMask = n - 1
        self.slotMilliseconds = slotMilliseconds
        self.links = Array(repeating: Link(next: -1, prev: Self.unscheduled, tick: 0), count: capacity)
        self.heads = Array(repeating: -1, count: n)
        self.lastTick = 0
        self.draining = false
        self.drainTick = 0
        self.cursor = -1
        self.scheduledCount = 0
    }

    /// Number of scheduled ids.
    @inlinable
    public var count: Int { scheduledCount }

    /// Number of ids the wheel can hold.
    public var capacity: Int { links.count }

    /// Slots per revolution.
    public var slotCount: Int { slotMask + 1 }

    /// True when `id` is scheduled.
    @inlinable
    public func isScheduled(_ id: ConnectionID) -> Bool {
        links[Int(id)].prev != Self.unscheduled
    }

    /// The time at which a scheduled `id` fires: its deadline rounded up to a tick.
    @inlinable
    public func firingTime(of id: ConnectionID) -> UInt64? {
        isScheduled(id) ? links[Int(id)].tick &* slotMilliseconds : nil
    }

    @inlinable
    mutating func unlink(_ id: Int32) {
        let index = Int(id)
        let link = links[index]
        if draining && cursor == id { cursor = link.next }
        if link.prev >= 0 {
            links[Int(link.prev)].next = link.next
        } else {
            heads[Int(link.tick) & slotMask] = link.next
        }
        if link.next >= 0 { links[Int(link.next)].prev = link.prev }
        links[index].next = -1
        links[index].prev = Self.unscheduled
        scheduledCount -= 1
    }

    /// Schedules `id` to fire at `deadline` (milliseconds); replaces any earlier schedule of `id`.
    /// A deadline already in the past fires at the next tick.
    @inlinable
    public mutating func schedule(_ id: ConnectionID, at deadline: UInt64) {
        let index = Int(id)
        if links[index].prev != Self.unscheduled { unlink(id) }
        var tick = deadline / slotMilliseconds
        if tick * slotMilliseconds < deadline { tick += 1 }
        let earliest = (draining ? drainTick : lastTick) + 1
        if tick < earliest { tick = earliest }
        let slot = Int(truncatingIfNeeded: tick) & slotMask
        let head = heads[slot]
        links[index] = Link(next: head, prev: -1, tick: tick)
        if head >= 0 { links[Int(head)].prev = id }
        heads[slot] = id
        scheduledCount += 1
    }

    /// Cancels `id` if it is scheduled.
    @inlinable
    public mutating func cancel(_ id: ConnectionID) {
        if links[Int(id)].prev != Self.unscheduled { unlink(id) }
    }

    /// Returns one id whose tick has been reached by `now` and unschedules it, or nil when none is
    /// left. Ids come out in tick order, except after a jump of more than one revolution, where
    /// overdue ids come out in slot order. The caller may schedule or cancel between calls.
    @inlinable
    public mutating func nextExpired(now: UInt64) -> ConnectionID? {
        let target = now / slotMilliseconds
        while true {
            if !draining {
                if lastTick >= target { return nil }
                if scheduledCount == 0 {
                    lastTick = target
                    return nil
                }
                // Visiting the last revolution's slots once is enough: every overdue id sits in one
                // of them and its stored tick is ≤ the tick of that visit.
                if target - lastTick > UInt64(slotMask + 1) { lastTick = target - UInt64(slotMask + 1) }
                drainTick = lastTick + 1
                cursor = heads[Int(truncatingIfNeeded: drainTick) & slotMask]
                draining = true
            }
            while cursor >= 0 {
                let id = cursor
                cursor = links[Int(id)].next
                if links[Int(id)].tick <= drainTick {
                    unlink(id)
                    return id
                }
            }
            draining = false
            lastTick = drainTick
        }
    }

    /// Unschedules and reports every id whose tick has been reached by `now`, in the order of
    /// `nextExpired(now:)`. `expired` must not reach this wheel; to re-arm, collect the ids, or use
    /// `nextExpired(now:)` in a loop.
    @inlinable
    public mutating func advance(to now: UInt64, expired: (ConnectionID) -> Void) {
        while let id = nextExpired(now: now) { expired(id) }
    }
}
