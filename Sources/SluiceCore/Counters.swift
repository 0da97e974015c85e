// Per-worker counters: plain integers owned by one worker thread, summed by readers from the
// snapshots workers publish at batch boundaries (no atomics on the hot path).

import SluicePacket

/// Event counters of one worker's data plane.
public struct Counters: Sendable {
    /// Drops by reason, indexed by `DropReason.rawValue`.
    public var drops: [UInt64]
    /// Events by kind, indexed by `Event.rawValue`.
    public var events: [UInt64]

    /// Countable events other than drops.
    public enum Event: Int, CaseIterable, Sendable {
        case receivedExternal = 0
        case receivedInternal
        case forwardedInbound
        case forwardedOutbound
        case connectionsCreated
        case connectionsExpired
        case icmpTranslated
        case icmpGenerated
        case mssClamped
        case neighbourResolutionRequested
        case generatedFrames
        case toaStripped
    }

    public init() {
        drops = Array(repeating: 0, count: DropReason.allCases.count)
        events = Array(repeating: 0, count: Event.allCases.count)
    }

    @inlinable
    public mutating func count(_ reason: DropReason) { drops[Int(reason.rawValue)] &+= 1 }

    @inlinable
    public mutating func count(_ event: Event, by n: UInt64 = 1) { events[event.rawValue] &+= n }

    public subscript(reason: DropReason) -> UInt64 { drops[Int(reason.rawValue)] }
    public subscript(event: Event) -> UInt64 { events[event.rawValue] }

    /// Adds another worker's counters (for totals).
    public mutating func add(_ other: Counters) {
        for i in drops.indices { drops[i] &+= other.drops[i] }
        for i in events.indices { events[i] &+= other.events[i] }
    }
}
