// How the control plane hands immutable snapshots (configuration, NetworkView) to worker threads without a
// lock on the hot path (docs/design.md §2): the writer stores the value under a mutex and then bumps an atomic
// generation with release ordering; a worker compares the generation (one acquiring load per batch) and
// takes the lock only when it changed, to copy the new value out.

import Synchronization

/// A published value with a change counter.
public final class SnapshotBox<Value: Sendable>: Sendable {
    private let storage: Mutex<Value>
    private let counter = Atomic<UInt64>(0)

    public init(_ value: Value) {
        storage = Mutex(value)
    }

    /// Replaces the value; readers see it at their next batch boundary.
    public func publish(_ value: Value) {
        storage.withLock { $0 = value }
        counter.wrappingAdd(1, ordering: .releasing)
    }

    /// Increases on every publish (wraps, never in practice).
    public var generation: UInt64 { counter.load(ordering: .acquiring) }

    /// The current value and the generation it belongs to.
    public func read() -> (value: Value, generation: UInt64) {
        storage.withLock { value in
            (value, counter.load(ordering: .acquiring))
        }
    }
}
