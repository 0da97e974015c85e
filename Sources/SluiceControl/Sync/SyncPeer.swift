// What this gateway knows about one sync peer (docs/sync.md): its anti-replay window, when it was
// last heard, the LIPs it said it has, and whether it is alive and whose LIPs are answered here.

import SluiceCore
import SluicePacket

/// One peer of the sync group.
public struct SyncPeer<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    public let endpoint: SyncOptions.Endpoint
    var window = SyncReplayWindow()
    /// The last authenticated, new datagram.
    public internal(set) var lastHeard: Instant?
    /// When it came back after being dead (it gets its LIPs back once it has re-synced).
    var backSince: Instant?
    /// True once this gateway has sent it the whole table since it came back (its bulk request).
    var resynced = false
    /// The LIPs from its last heartbeat.
    public internal(set) var localAddresses: [IPAddress] = []
    public internal(set) var alive = false
    /// True while this gateway answers for the peer's LIPs.
    public internal(set) var adopted = false

    init(endpoint: SyncOptions.Endpoint) {
        self.endpoint = endpoint
    }
}
