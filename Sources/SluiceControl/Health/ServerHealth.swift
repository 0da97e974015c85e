// The rise/fall state machine of one real server's checks (HAProxy's semantics): a server starts
// down and unproven, is checked at once, comes up after `rise` consecutive successes and goes down
// after `fall` consecutive failures; a result that agrees with the current state resets the
// opposite streak, so a flapping server changes state only when a full streak completes.

/// Health of one real server as its checks say.
public struct ServerHealth: Sendable, Hashable {
    /// A change of state.
    public enum Transition: Sendable, Hashable {
        case up
        case down
    }

    public private(set) var isUp: Bool
    /// Consecutive results that contradict the current state.
    public private(set) var streak = 0
    public private(set) var last: CheckResult?
    /// Checks run and failed, since start.
    public private(set) var checks: UInt64 = 0
    public private(set) var failures: UInt64 = 0
    let rise: Int
    let fall: Int

    /// A server under checks starts down (`isUp` false) until `rise` successes prove it.
    public init(rise: Int, fall: Int, isUp: Bool = false) {
        self.rise = max(1, rise)
        self.fall = max(1, fall)
        self.isUp = isUp
    }

    /// Records one check; returns the transition it caused, if any.
    public mutating func record(_ result: CheckResult) -> Transition? {
        last = result
        checks &+= 1
        let success = result.status.isSuccess
        if !success { failures &+= 1 }
        if success == isUp {
            streak = 0
            return nil
        }
        streak += 1
        if isUp && streak >= fall {
            isUp = false
            streak = 0
            return .down
        }
        if !isUp && streak >= rise {
            isUp = true
            streak = 0
            return .up
        }
        return nil
    }
}
