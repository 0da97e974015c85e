// What the crash guard (`sluice guard`) decides from the beats `sluice run` sends it. A process that
// is stopped (SIGSTOP, a debugger, a hung control plane) keeps its end of the pipe open, so end of file
// alone would leave its VIPs announced while nothing forwards: the announcer writes a beat every
// reconciliation, and a guard that hears none for `timeout` withdraws the VIPs. Once beats come back
// the announcer finds its include files emptied and writes them again (BirdAnnouncer compares the
// files, not its memory), so the guard never has to know what was announced.

/// The guard's view of `sluice run`'s liveness.
public struct GuardWatch<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    /// The longest silence the guard accepts: three missed reconciliations.
    public static var defaultTimeoutMilliseconds: Int { 3000 }
    public static var defaultTimeout: Duration { .milliseconds(defaultTimeoutMilliseconds) }

    public let timeout: Duration
    public private(set) var lastBeat: Instant?
    /// The guard withdrew the VIPs for a silence that has not ended yet.
    public private(set) var withdrawn = false

    public init(timeout: Duration = Self.defaultTimeout) { self.timeout = timeout }

    /// When the silence becomes too long: nil before the first beat (start-up takes its time and
    /// nothing is announced yet) and after a withdrawal, until the next beat.
    public var deadline: Instant? {
        guard !withdrawn else { return nil }
        return lastBeat?.advanced(by: timeout)
    }

    /// Records a beat; true when it ends a silence the guard withdrew for.
    public mutating func beat(at now: Instant) -> Bool {
        lastBeat = now
        defer { withdrawn = false }
        return withdrawn
    }

    /// True once, when `now` has passed the deadline: the VIPs must be withdrawn.
    public mutating func expire(at now: Instant) -> Bool {
        guard let deadline, now >= deadline else { return false }
        withdrawn = true
        return true
    }
}
