// Running problems (unresolved neighbours, exhausted LIP ports, a full connection table, no route, a
// full transmit ring) are counted per packet in the data plane and logged here once per episode: one
// line when a counter starts moving, one when it has been still for `quietSamples` samples, with how
// many it counted in between. A flood of drops is therefore two log lines, not thousands.

/// Turns samples of monotonically growing counters into episode start and end events.
public struct EpisodeTracker: Sendable {
    public enum Event: Sendable, Equatable {
        case started(name: String, count: UInt64)
        case ended(name: String, count: UInt64)
    }

    /// Samples without growth that end an episode.
    public let quietSamples: Int
    private var last: [String: UInt64] = [:]
    private var open: [String: (start: UInt64, quiet: Int)] = [:]

    public init(quietSamples: Int = 10) {
        self.quietSamples = max(1, quietSamples)
    }

    /// Feeds the current values; returns what started or ended since the previous sample. The first
    /// sample only sets the baseline.
    public mutating func sample(_ values: [(name: String, value: UInt64)]) -> [Event] {
        var events: [Event] = []
        for (name, value) in values {
            defer { last[name] = value }
            guard let previous = last[name] else { continue }
            let grew = value > previous
            if var episode = open[name] {
                if grew {
                    episode.quiet = 0
                } else {
                    episode.quiet += 1
                }
                if episode.quiet >= quietSamples {
                    open[name] = nil
                    events.append(.ended(name: name, count: value &- episode.start))
                } else {
                    open[name] = episode
                }
            } else if grew {
                open[name] = (previous, 0)
                events.append(.started(name: name, count: value &- previous))
            }
        }
        return events
    }
}
