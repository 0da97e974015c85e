// How a NetworkView snapshot reaches the workers. The writer (the mirror's thread) swaps the whole
// snapshot under a Mutex and then stores its generation in an Atomic; a worker reads the atomic once per
// batch (one relaxed-cost acquire load, no lock, no reference counting) and takes the lock only when the
// generation moved, to copy the new snapshot out. The lock is held for a copy of a few references, so a
// worker never waits on a dump or a rebuild.

import SluiceCore
import Synchronization

/// A thread-safe holder of the current NetworkView (the same pattern as SnapshotBox, keyed by the view's
/// own generation so that `NetlinkMirror.currentGeneration()` equals `snapshot().generation`).
final class NetlinkViewBox: Sendable {
    private let view: Mutex<NetworkView>
    private let generation: Atomic<UInt64>

    /// A box holding `initial` (by default an empty view, generation 0).
    init(_ initial: NetworkView = NetworkView()) {
        view = Mutex(initial)
        generation = Atomic(initial.generation)
    }

    /// The generation of the latest published snapshot; cheap enough to call once per batch.
    func currentGeneration() -> UInt64 { generation.load(ordering: .acquiring) }

    /// The latest published snapshot. Its generation may be newer than a `currentGeneration()` read just
    /// before, never older.
    func snapshot() -> NetworkView { view.withLock { $0 } }

    /// Replaces the snapshot. Generations should increase; readers compare them for inequality only.
    func publish(_ snapshot: NetworkView) {
        view.withLock { $0 = snapshot }
        generation.store(snapshot.generation, ordering: .releasing)
    }
}
