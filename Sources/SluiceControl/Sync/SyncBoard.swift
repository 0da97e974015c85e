// The sync service's latest figures (SyncStatus), for the metrics and the admin API (GET /v1/sync).

import SluiceAdmin

/// The latest SyncStatus; nil while sync is off.
public actor SyncBoard {
    public private(set) var status: SyncStatus?

    public init() {}

    public func publish(_ status: SyncStatus) {
        self.status = status
    }
}
