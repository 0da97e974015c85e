// Where workers get the kernel's L2/L3 snapshot from. Normally the netlink mirror (its own box, keyed by
// the view's generation); in tests and tools a SnapshotBox or a constant view. Workers call `generation`
// once per batch and `snapshot` only when it changed, so the indirection costs one call per batch and
// nothing per packet.

import SluiceCore

/// A source of NetworkView snapshots for workers.
public struct NetworkViewSource: Sendable {
    /// Changes whenever a new snapshot is available (compared for inequality only).
    public let generation: @Sendable () -> UInt64
    /// The current snapshot.
    public let snapshot: @Sendable () -> NetworkView

    public init(
        generation: @escaping @Sendable () -> UInt64, snapshot: @escaping @Sendable () -> NetworkView
    ) {
        self.generation = generation
        self.snapshot = snapshot
    }

    /// Snapshots published into a box.
    public static func box(_ box: SnapshotBox<NetworkView>) -> NetworkViewSource {
        NetworkViewSource(generation: { box.generation }, snapshot: { box.read().value })
    }

    /// One view that never changes.
    public static func constant(_ view: NetworkView) -> NetworkViewSource {
        NetworkViewSource(generation: { 0 }, snapshot: { view })
    }

    /// The netlink mirror's snapshots.
    public init(_ mirror: NetlinkMirror) {
        self.init(generation: { mirror.currentGeneration() }, snapshot: { mirror.snapshot() })
    }
}
