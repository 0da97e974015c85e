// HAProxy's three administrative states of a server (its runtime API's `set server ... state`),
// which the admin API sets and a reload keeps for servers that still exist.

/// What an operator says about a real server, apart from its health.
public enum AdminState: String, Sendable, Hashable, CaseIterable {
    /// Takes new connections as its weight and health allow.
    case ready
    /// No new connections; existing ones continue (weight 0).
    case drain
    /// Maintenance: no new connections and not counted as live.
    case maint
}

/// Runtime changes to one real server that override the file.
public struct RuntimeOverride: Sendable, Hashable {
    public var weight: UInt32?
    public var adminState: AdminState = .ready

    public init(weight: UInt32? = nil, adminState: AdminState = .ready) {
        self.weight = weight
        self.adminState = adminState
    }
}
