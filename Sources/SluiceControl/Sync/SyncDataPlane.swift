// What the sync service needs from the workers (docs/sync.md), as a protocol so that the service can
// be tested against a fake: take the queued events, install a peer's records, and walk the tables.

import SluiceCore
import SluiceXDP

/// The workers, as connection sync sees them.
public protocol SyncDataPlane: Sendable {
    /// Every worker's queued connection events (their outboxes are empty after).
    func takeEvents() async -> [SyncRecord]
    /// Installs a peer's records, each in the worker that owns its local port.
    func install(_ records: [SyncRecord]) async
    /// Update records of every live connection worth syncing: this gateway's own for the refresh, and
    /// the peers' entries held here too for a bulk request (`includeSynced`).
    func snapshot(includeSynced: Bool) async -> [SyncRecord]
}

/// SyncDataPlane over the AF_XDP runtime: every call goes through the workers' mailboxes.
public struct RuntimeSyncDataPlane: SyncDataPlane {
    let runtime: DataPlaneRuntime

    public init(runtime: DataPlaneRuntime) {
        self.runtime = runtime
    }

    /// Table slots a worker examines between two batches during a walk.
    public static let walkSlice = 16_384

    public func takeEvents() async -> [SyncRecord] {
        let answers = await runtime.ask { dataplane in dataplane.takeSyncEvents(now: MonotonicClock.milliseconds()) }
        return answers.compactMap { $0 }.flatMap { $0 }
    }

    public func install(_ records: [SyncRecord]) async {
        guard !records.isEmpty else { return }
        // Replies reach the worker that owns the local port, so that is where the entry belongs.
        _ = await runtime.ask { dataplane in
            let mine = records.filter {
                PortPool.owner(ofPort: $0.connection.localPort, workerCount: dataplane.workers) == dataplane.workerIndex
            }
            dataplane.installSynced(mine, now: MonotonicClock.milliseconds())
            return true
        }
    }

    public func snapshot(includeSynced: Bool) async -> [SyncRecord] {
        let answers = await runtime.askInSlices(
            timeout: .seconds(30), initial: (next: ConnectionID(0), records: [SyncRecord]())
        ) { dataplane, state -> [SyncRecord]? in
            let slice = dataplane.syncSnapshot(
                from: state.next, slots: Self.walkSlice, now: MonotonicClock.milliseconds(),
                includeSynced: includeSynced)
            state.records += slice.records
            guard let next = slice.next else { return state.records }
            state.next = next
            return nil
        }
        return answers.compactMap { $0 }.flatMap { $0 }
    }
}
