// What a sync record says happened to a connection (docs/sync.md).

/// What happened to a connection.
public enum SyncEventKind: UInt8, Sendable {
    /// Created or changed: install or update it.
    case update = 1
    /// Removed: forget it.
    case remove = 2
}
