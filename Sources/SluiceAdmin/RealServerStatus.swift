// One real server in the admin API: what the file says, what runs, and what it carries.

/// A real server of a virtual server.
public struct RealServerStatus: Codable, Sendable, Equatable {
    public var address: String
    public var port: UInt16
    /// The file's weight.
    public var configuredWeight: UInt32
    /// The weight the scheduler uses now (0 while drained, in maintenance or down with inhibit).
    public var weight: UInt32
    /// `ready`, `drain` or `maint`.
    public var adminState: String
    public var health: CheckState
    /// True for the virtual server's sorry server while it stands in for the real servers.
    public var isSorryServer: Bool
    /// ESTABLISHED connections (ipvsadm ActiveConn) and the others (InActConn), over all workers.
    public var activeConnections: UInt64
    public var inactiveConnections: UInt64
    public var stats: TrafficStats
    public var rate: TrafficRate

    public init(
        address: String, port: UInt16, configuredWeight: UInt32, weight: UInt32, adminState: String,
        health: CheckState, isSorryServer: Bool = false, activeConnections: UInt64 = 0,
        inactiveConnections: UInt64 = 0, stats: TrafficStats = TrafficStats(), rate: TrafficRate = TrafficRate()
    ) {
        self.address = address
        self.port = port
        self.configuredWeight = configuredWeight
        self.weight = weight
        self.adminState = adminState
        self.health = health
        self.isSorryServer = isSorryServer
        self.activeConnections = activeConnections
        self.inactiveConnections = inactiveConnections
        self.stats = stats
        self.rate = rate
    }
}
