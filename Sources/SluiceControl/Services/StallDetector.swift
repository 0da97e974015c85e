// Worker progress from heartbeat samples, for the watchdog and the route announcer. A worker bumps its
// heartbeat about every 100 ms while its loop runs, so one that did not move between two samples an
// interval apart has stalled. Two samples much further apart than the interval say that the sampler
// itself did not run (the whole process was stopped, SIGSTOP or a debugger): the workers were stopped
// with it, so that pair is not judged, and the next one is.

/// Judges worker progress between heartbeat samples.
public struct StallDetector<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    /// A gap of more than this many intervals between samples means the sampler was not running.
    public static var pauseFactor: Int { 2 }

    public let interval: Duration
    private var previous: (beats: [UInt64], at: Instant)?

    public init(interval: Duration) { self.interval = interval }

    /// The workers whose heartbeat did not move since the previous sample, or nil when there is
    /// nothing fair to compare with (the first sample, or one after a pause of the whole process).
    public mutating func sample(_ beats: [UInt64], at now: Instant) -> [Int]? {
        defer { previous = (beats, now) }
        guard let previous, previous.at.duration(to: now) <= interval * Self.pauseFactor else { return nil }
        return zip(previous.beats, beats).enumerated().filter { $0.element.0 == $0.element.1 }.map(\.offset)
    }

    /// When to sample next: an interval after the last planned time, but after a pause not at once
    /// (a burst of missed rounds would compare samples microseconds apart): at least half an interval
    /// from now, time enough for a running worker to beat several times.
    public func next(after planned: Instant, now: Instant) -> Instant {
        max(planned.advanced(by: interval), now.advanced(by: interval / 2))
    }
}
