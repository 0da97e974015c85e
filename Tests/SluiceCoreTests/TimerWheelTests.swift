// Timer wheel under a manual clock: ids fire in deadline order, never early and at most one tick
// late; long deadlines wait for their round; cancel and reschedule; the lazy re-arm pattern the
// data plane uses with the entry's 32-bit `expiry`; deadlines past the 6-bit round window.

import SluiceCore
import SluicePacket
import SluiceTestKit
import Testing

@Suite struct TimerWheelTests {
    /// Steps the clock by `step` until `end`, recording (time, id) of every expiry.
    static func run(
        _ wheel: inout TimerWheel, clock: inout ManualClock, step: UInt64, until end: UInt64
    ) -> [(time: UInt64, id: ConnectionID)] {
        var fired: [(time: UInt64, id: ConnectionID)] = []
        while clock.now < end {
            clock.advance(by: step)
            let now = clock.now
            wheel.advance(to: now) { fired.append((now, $0)) }
        }
        return fired
    }

    @Test func firesInDeadlineOrderNeverEarly() {
        var wheel = TimerWheel(capacity: 8, slotMilliseconds: 100, slots: 64)
        var clock = ManualClock()
        let deadlines: [UInt64] = [500, 200, 1000, 300, 250, 1]
        for (i, d) in deadlines.enumerated() { wheel.schedule(ConnectionID(i), at: d) }
        #expect(wheel.count == 6)
        let fired = Self.run(&wheel, clock: &clock, step: 10, until: 1500)
        #expect(fired.map(\.id) == [5, 1, 4, 3, 0, 2])
        for f in fired {
            let deadline = deadlines[Int(f.id)]
            #expect(f.time >= deadline, "id \(f.id) fired early")
            #expect(f.time < deadline + 100 + 10, "id \(f.id) fired more than a tick late")
        }
        #expect(wheel.count == 0)
    }

    @Test func deadlinesBeyondOneRevolutionWaitForTheirRound() {
        // 8 slots of 10 ms: one revolution is 80 ms.
        var wheel = TimerWheel(capacity: 4, slotMilliseconds: 10, slots: 8)
        var clock = ManualClock()
        wheel.schedule(0, at: 1000)
        wheel.schedule(1, at: 85)
        wheel.schedule(2, at: 5)
        let fired = Self.run(&wheel, clock: &clock, step: 5, until: 1200)
        #expect(fired.map(\.id) == [2, 1, 0])
        #expect(fired.map(\.time) == [10, 90, 1000])
    }

    @Test func cancelAndReschedule() {
        var wheel = TimerWheel(capacity: 4, slotMilliseconds: 100, slots: 16)
        var clock = ManualClock()
        wheel.schedule(0, at: 300)
        wheel.schedule(1, at: 300)
        wheel.schedule(2, at: 300)
        wheel.cancel(1)
        wheel.cancel(1)
        #expect(wheel.isScheduled(1) == false)
        wheel.schedule(2, at: 700)
        #expect(wheel.count == 2)
        #expect(wheel.firingTime(of: 2) == 700)
        let fired = Self.run(&wheel, clock: &clock, step: 100, until: 1000)
        #expect(fired.map(\.id) == [0, 2])
        #expect(fired.map(\.time) == [300, 700])
    }

    @Test func pastDeadlineFiresAtNextTick() {
        var wheel = TimerWheel(capacity: 2, slotMilliseconds: 100, slots: 16)
        var none: [ConnectionID] = []
        wheel.advance(to: 1000) { none.append($0) }
        #expect(none.isEmpty)
        wheel.schedule(0, at: 500)
        #expect(wheel.nextExpired(now: 1000) == nil)
        #expect(wheel.nextExpired(now: 1100) == 0)
    }

    /// A jump far beyond one revolution (e.g. the first call with a boot-relative clock) reports
    /// every overdue id exactly once and keeps the rest. (64 slots: every deadline is within the 31
    /// revolutions the wheel holds exactly.)
    @Test func largeJumpReportsEachOverdueIdOnce() {
        var wheel = TimerWheel(capacity: 100, slotMilliseconds: 100, slots: 64)
        for i in 0..<100 { wheel.schedule(ConnectionID(i), at: UInt64(i) * 1_000) }
        var fired: [ConnectionID] = []
        wheel.advance(to: 49_950) { fired.append($0) }
        #expect(fired.sorted() == Array(0..<50))
        wheel.advance(to: 10_000_000) { fired.append($0) }
        #expect(fired.sorted() == Array(0..<100))
        #expect(wheel.count == 0)
    }

    /// Rescheduling and cancelling between `nextExpired` calls, including the id the walk of the
    /// current slot would visit next.
    @Test func reschedulingWhileDraining() {
        var wheel = TimerWheel(capacity: 8, slotMilliseconds: 100, slots: 4)
        for i in 0..<6 { wheel.schedule(ConnectionID(i), at: 200) }
        guard let first = wheel.nextExpired(now: 200) else {
            Issue.record("nothing expired")
            return
        }
        // Keep one other id of the slot and cancel the rest (the walk's next id among them), then
        // put the first one a revolution later, into the same slot.
        let others = (0..<6).map { ConnectionID($0) }.filter { $0 != first }
        let keeper = others[0]
        for id in others.dropFirst() { wheel.cancel(id) }
        wheel.schedule(first, at: 600)
        var rest: [ConnectionID] = []
        while let id = wheel.nextExpired(now: 200) { rest.append(id) }
        #expect(rest == [keeper])
        #expect(wheel.count == 1)
        #expect(wheel.nextExpired(now: 500) == nil)
        #expect(wheel.nextExpired(now: 600) == first)
        #expect(wheel.count == 0)
    }

    /// The data plane's pattern: packets only write `expiry`; when the wheel reports an id, the
    /// connection is expired if its deadline has passed and re-armed otherwise.
    @Test func lazyRearmFollowsExpiresAt() {
        var table = ConnectionTable(capacity: 4, seed: (1, 2))
        var wheel = TimerWheel(capacity: 4, slotMilliseconds: 100, slots: 32)
        var clock = ManualClock(now: 10_000)
        let timeout: UInt64 = 3_000
        var c = makeConnection(1)
        c.expire(at: clock.now + timeout)
        let id = table.insert(c)!
        wheel.schedule(id, at: table[id].expiresAt(near: clock.now))

        var rearms = 0
        var expiredAt: UInt64?
        // A packet every second for 10 s, then silence.
        var lastPacket = clock.now
        while expiredAt == nil && clock.now < 60_000 {
            clock.advance(by: 50)
            if clock.now <= 20_000 && clock.now % 1_000 == 0 {
                table[id].expire(at: clock.now + timeout)
                lastPacket = clock.now
            }
            while let due = wheel.nextExpired(now: clock.now) {
                if !table[due].isExpired(at: clock.now) {
                    rearms += 1
                    wheel.schedule(due, at: table[due].expiresAt(near: clock.now))
                } else {
                    expiredAt = clock.now
                    table.remove(due)
                }
            }
        }
        #expect(lastPacket == 20_000)
        #expect(expiredAt != nil)
        if let expiredAt {
            #expect(expiredAt >= lastPacket + timeout)
            #expect(expiredAt <= lastPacket + timeout + 100)
        }
        // One wheel operation per timeout period of activity, not one per packet (10 packets).
        #expect(rearms <= 4)
        #expect(table.count == 0)
    }

    /// A deadline more than 31 revolutions ahead is kept at 31 revolutions: it fires then (early), and
    /// the caller re-arms it; one just inside the window waits for its exact round.
    @Test func deadlinesBeyondTheRoundWindowFireAfter31Revolutions() {
        // 8 slots of 10 ms: one revolution is 80 ms, 31 revolutions 2 480 ms.
        var wheel = TimerWheel(capacity: 4, slotMilliseconds: 10, slots: 8)
        var clock = ManualClock()
        wheel.schedule(0, at: 80 * 40)
        wheel.schedule(1, at: 2_470)
        #expect(wheel.firingTime(of: 0) == 2_480)
        #expect(wheel.firingTime(of: 1) == 2_470)
        let fired = Self.run(&wheel, clock: &clock, step: 10, until: 3_000)
        #expect(fired.map(\.id) == [1, 0])
        #expect(fired.map(\.time) == [2_470, 2_480])
    }

    /// Jumps of many revolutions are taken 16 at a time: ids due inside the jump fire once, ids due
    /// after it (up to 31 revolutions after the last advance) keep their round, whatever the jump.
    @Test func longJumpsKeepRounds() {
        var wheel = TimerWheel(capacity: 8, slotMilliseconds: 10, slots: 8)
        // Revolutions of 80 ms: due at revolution 3, 20, 25 and 30.
        let deadlines: [UInt64] = [245, 1_605, 2_005, 2_405]
        for (i, d) in deadlines.enumerated() { wheel.schedule(ConnectionID(i), at: d) }
        var fired: [ConnectionID] = []
        wheel.advance(to: 1_700) { fired.append($0) }
        #expect(fired.sorted() == [0, 1])
        wheel.advance(to: 2_010) { fired.append($0) }
        #expect(fired.sorted() == [0, 1, 2])
        wheel.advance(to: 2_400) { fired.append($0) }
        #expect(fired.count == 3)
        wheel.advance(to: 1_000_000_000) { fired.append($0) }
        #expect(fired.sorted() == [0, 1, 2, 3])
        #expect(wheel.count == 0)
        // After the jump the wheel keeps exact rounds from its new time on.
        wheel.schedule(5, at: 1_000_000_000 + 1_000)
        #expect(wheel.firingTime(of: 5) == 1_000_001_000)
        #expect(wheel.nextExpired(now: 1_000_000_990) == nil)
        #expect(wheel.nextExpired(now: 1_000_001_000) == 5)
    }

    /// Every id of a large wheel can be scheduled, cancelled and fired: the packed 29-bit links reach
    /// the last id, and a list head's slot is found again when it is unlinked.
    @Test func packedLinksReachEveryId() {
        let n = 5_000
        var wheel = TimerWheel(capacity: n, slotMilliseconds: 100, slots: 16)
        for i in 0..<n { wheel.schedule(ConnectionID(i), at: UInt64(i % 7) * 100 + 100) }
        #expect(wheel.count == n)
        // Cancel every third id, heads of their slots' lists included.
        for i in stride(from: 0, to: n, by: 3) { wheel.cancel(ConnectionID(i)) }
        wheel.cancel(ConnectionID(n - 1))
        var fired: [ConnectionID] = []
        wheel.advance(to: 10_000) { fired.append($0) }
        let expected = (0..<n).filter { $0 % 3 != 0 && $0 != n - 1 }.map { ConnectionID($0) }
        #expect(fired.sorted() == expected)
        #expect(wheel.count == 0)
    }
}
