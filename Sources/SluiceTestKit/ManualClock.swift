// A clock the test moves by hand. SluiceCore reads no clock of its own: every call that needs the
// time takes monotonic milliseconds, so tests drive expiry deterministically with this value
// (like NIO's EmbeddedEventLoop.advanceTime(by:)).

/// Monotonic milliseconds that only move when the test says so.
public struct ManualClock: Sendable {
    /// Current time in milliseconds.
    public var now: UInt64

    /// Starts the clock at `now` milliseconds.
    public init(now: UInt64 = 0) {
        self.now = now
    }

    /// Moves the clock forward by `ms` milliseconds.
    public mutating func advance(by ms: UInt64) {
        now += ms
    }
}
