// Connection expiry (docs/protocol.md §5) with a hashed timer wheel (Varghese & Lauck, 1987) driven by
// the caller's clock: nothing here reads time, so tests advance a ManualClock and the worker passes
// its monotonic milliseconds.
//
// Shape:
// - One intrusive doubly-linked list per slot, threaded through a preallocated `links` array indexed
//   by ConnectionID: one UInt64 per connection, 8 bytes (it used to be 16: two Int32 links and a
//   64-bit tick). Its bits: 29 for the next id + 1 (0 ends the list), 29 for the previous id + 1, or
//   for `headCode + slot` when the id heads slot `slot`'s list (so unlinking knows which head to
//   move), 0 when the id is not scheduled; and 6 for the deadline's round, (tick / slots) mod 64.
//   Scheduling, cancelling and expiring are O(1) and never allocate.
// - A deadline is rounded *up* to a tick (`slotMilliseconds`), so an entry never fires early; it
//   fires at the first advance that reaches its tick, at most one tick late. Deadlines beyond one
//   revolution stay in their slot and are skipped until their round comes: the stored round is
//   compared on every visit, as a signed 6-bit difference from the round being visited, which is
//   exact for rounds from 32 behind to 31 ahead. The wheel keeps every deadline in that window: one
//   more than 31 revolutions ahead (3.5 hours at the defaults, 409.6 s a revolution) is kept at 31
//   revolutions and fires then, early; the caller re-arms it, as it re-arms every refreshed
//   connection (next item). And an advance of more than 16 revolutions is taken in steps of 16.
// - Lazy re-arm: the data plane refreshes a connection per packet by writing its expiry in the
//   table entry only. When the wheel reports the id, the caller compares that deadline with `now` and
//   either expires the connection or schedules it again. This keeps wheel work per connection
//   proportional to its idle periods, not to its packets (the same trick as dpvs's timer refresh).
// - `nextExpired(now:)` hands out due ids one at a time, so the caller may cancel or reschedule
//   (including the id just returned) between calls; `advance(to:expired:)` is the closure form.
//   A jump of more than a revolution visits each slot once per 16 revolutions instead of every tick
//   in between (and nothing at all when no id is scheduled).

/// A hashed timer wheel for connection ids.
public struct TimerWheel: ~Copyable {
    /// Bits of each link field.
    @usableFromInline static var fieldMask: UInt64 { (1 << 29) - 1 }
    @usableFromInline static var previousShift: UInt64 { 29 }
    @usableFromInline static var roundShift: UInt64 { 58 }
    /// Previous-field codes above this one name a slot whose list the id heads.
    @usableFromInline static var headCode: Int { 1 << 28 }
    /// Rounds a deadline may be ahead of the wheel; advances are taken in steps of `jumpRounds`.
    @usableFromInline static var aheadRounds: UInt64 { 31 }
    @usableFromInline static var jumpRounds: UInt64 { 16 }

    @usableFromInline var links: [UInt64]
    @usableFromInline var heads: [Int32]
    @usableFromInline let slotMask: Int
    @usableFromInline let slotBits: UInt64
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
    ///   - capacity: number of ids (the connection table's capacity, at most 2^28).
    ///   - slotMilliseconds: tick length; the expiry resolution.
    ///   - slots: slots per revolution, rounded up to a power of two (at most 2^20).
    public init(capacity: Int, slotMilliseconds: UInt64 = 100, slots: Int = 4096) {
        precondition(capacity >= 0 && capacity <= 1 << 28, "timer capacity out of range")
        precondition(
            slotMilliseconds > 0 && slots > 0 && slots <= 1 << 20, "timer wheel needs a tick and 1...2^20 slots")
        var n = 1
        var bits: UInt64 = 0
        while n < slots {
            n <<= 1
            bits += 1
        }
        self.slotMask = n - 1
        self.slotBits = bits
        self.slotMilliseconds = slotMilliseconds
        self.links = Array(repeating: 0, count: capacity)
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

    // MARK: Links

    @inlinable @inline(__always)
    static func next(_ link: UInt64) -> Int32 { Int32(truncatingIfNeeded: link & fieldMask) &- 1 }

    @inlinable @inline(__always)
    static func previous(_ link: UInt64) -> Int { Int(truncatingIfNeeded: (link >> previousShift) & fieldMask) }

    @inlinable @inline(__always)
    static func round(_ link: UInt64) -> UInt64 { link >> roundShift }

    @inlinable @inline(__always)
    static func withNext(_ link: UInt64, _ next: Int32) -> UInt64 {
        link & ~fieldMask | UInt64(truncatingIfNeeded: next &+ 1)
    }

    @inlinable @inline(__always)
    static func withPrevious(_ link: UInt64, _ code: Int) -> UInt64 {
        link & ~(fieldMask << previousShift) | UInt64(truncatingIfNeeded: code) << previousShift
    }

    /// The tick a deadline rounds to, within the window the stored round can express.
    @inlinable
    func tick(for deadline: UInt64) -> UInt64 {
        var tick = deadline / slotMilliseconds
        if tick * slotMilliseconds < deadline { tick += 1 }
        let base = draining ? drainTick : lastTick
        if tick <= base { return base + 1 }
        let latest = base + Self.aheadRounds << slotBits
        return tick > latest ? latest : tick
    }

    /// The stored round `round` as a tick-round near `base`'s: from 32 behind to 31 ahead.
    @inlinable @inline(__always)
    func roundDistance(_ round: UInt64, from base: UInt64) -> Int64 {
        let d = Int64(truncatingIfNeeded: (round &- (base >> slotBits)) & 63)
        return d > 31 ? d - 64 : d
    }

    /// True when `id` is scheduled.
    @inlinable
    public func isScheduled(_ id: ConnectionID) -> Bool {
        Self.previous(links[Int(id)]) != 0
    }

    /// The time at which a scheduled `id` fires: its deadline rounded up to a tick (and kept within
    /// 31 revolutions).
    public func firingTime(of id: ConnectionID) -> UInt64? {
        guard isScheduled(id) else { return nil }
        var code = Self.previous(links[Int(id)])
        while code <= Self.headCode { code = Self.previous(links[code - 1]) }
        let slot = UInt64(code - Self.headCode - 1)
        let base = draining ? drainTick : lastTick
        let round = Int64(base >> slotBits) + roundDistance(Self.round(links[Int(id)]), from: base)
        return (UInt64(round) << slotBits | slot) &* slotMilliseconds
    }

    @inlinable
    mutating func unlink(_ id: Int32) {
        let index = Int(id)
        let link = links[index]
        let next = Self.next(link)
        if draining && cursor == id { cursor = next }
        let code = Self.previous(link)
        if code > Self.headCode {
            heads[code &- Self.headCode &- 1] = next
        } else {
            links[code &- 1] = Self.withNext(links[code &- 1], next)
        }
        if next >= 0 { links[Int(next)] = Self.withPrevious(links[Int(next)], code) }
        links[index] = 0
        scheduledCount -= 1
    }

    /// Schedules `id` to fire at `deadline` (milliseconds); replaces any earlier schedule of `id`.
    /// A deadline already in the past fires at the next tick; one more than 31 revolutions ahead
    /// fires after 31 revolutions.
    @inlinable
    public mutating func schedule(_ id: ConnectionID, at deadline: UInt64) {
        let index = Int(id)
        if Self.previous(links[index]) != 0 { unlink(id) }
        let tick = tick(for: deadline)
        let slot = Int(truncatingIfNeeded: tick) & slotMask
        let head = heads[slot]
        links[index] =
            (tick >> slotBits) << Self.roundShift | UInt64(Self.headCode &+ 1 &+ slot) << Self.previousShift
            | UInt64(truncatingIfNeeded: head &+ 1)
        if head >= 0 { links[Int(head)] = Self.withPrevious(links[Int(head)], index &+ 1) }
        heads[slot] = id
        scheduledCount += 1
    }

    /// Cancels `id` if it is scheduled.
    @inlinable
    public mutating func cancel(_ id: ConnectionID) {
        if Self.previous(links[Int(id)]) != 0 { unlink(id) }
    }

    /// Returns one id whose tick has been reached by `now` and unschedules it, or nil when none is
    /// left. Ids come out in tick order, except after a jump of more than one revolution, where
    /// overdue ids come out in slot order. The caller may schedule or cancel between calls.
    @inlinable
    public mutating func nextExpired(now: UInt64) -> ConnectionID? {
        let target = now / slotMilliseconds
        let revolution = UInt64(slotMask + 1)
        while true {
            if !draining {
                if lastTick >= target { return nil }
                if scheduledCount == 0 {
                    lastTick = target
                    return nil
                }
                // Visiting the last revolution's slots once is enough: every overdue id sits in one
                // of them and its tick is ≤ the tick of that visit. Steps of at most 16 revolutions
                // keep every stored round within the 6-bit window.
                if target - lastTick > revolution {
                    let stop = min(target, lastTick + Self.jumpRounds * revolution)
                    lastTick = stop - revolution
                }
                drainTick = lastTick + 1
                cursor = heads[Int(truncatingIfNeeded: drainTick) & slotMask]
                draining = true
            }
            while cursor >= 0 {
                let id = cursor
                cursor = Self.next(links[Int(id)])
                if roundDistance(Self.round(links[Int(id)]), from: drainTick) <= 0 {
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
