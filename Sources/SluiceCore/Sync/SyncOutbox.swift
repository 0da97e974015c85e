// Connection events waiting for the sync service (docs/sync.md): a bounded, preallocated buffer in the
// worker's data plane. The hot path only appends a copy of the entry (at a state change, not per
// packet); the sync service takes the whole buffer between batches through the worker's mailbox, so
// nothing here is shared between threads. A full buffer drops the event and counts it: the periodic
// refresh sends every live connection again, so a lost event costs at most one refresh interval.

/// One worker's queued connection events.
public struct SyncOutbox: Sendable {
    /// Events held at most between two collections.
    public let capacity: Int
    @usableFromInline var kinds: [SyncEventKind]
    @usableFromInline var entries: [Connection]
    @usableFromInline var count = 0

    /// An outbox of `capacity` events; 0 turns sync off (every append is refused without a count).
    public init(capacity: Int) {
        self.capacity = capacity
        kinds = Array(repeating: .update, count: capacity)
        entries = Array(repeating: Connection.empty, count: capacity)
    }

    /// True when the data plane should record events at all.
    @inlinable
    public var isEnabled: Bool { capacity > 0 }

    /// Events waiting.
    @inlinable
    public var waiting: Int { count }

    /// Queues an event; false when full.
    @inlinable
    public mutating func append(_ kind: SyncEventKind, _ connection: Connection) -> Bool {
        guard count < capacity else { return false }
        kinds[count] = kind
        entries[count] = connection
        count += 1
        return true
    }

    /// The waiting events as records with their idle time left at `now`; the outbox is empty after.
    public mutating func take(now: UInt64) -> [SyncRecord] {
        var out: [SyncRecord] = []
        out.reserveCapacity(count)
        for i in 0..<count {
            let c = entries[i]
            let idle = min(c.idleLeft(at: now), UInt64(UInt32.max))
            out.append(SyncRecord(kind: kinds[i], connection: c, idleMilliseconds: UInt32(idle)))
        }
        count = 0
        return out
    }
}
