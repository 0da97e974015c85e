// One virtual server in the admin API, with its real servers.

/// A virtual server (VIP:port/protocol) and its real servers.
public struct VirtualServerStatus: Codable, Sendable, Equatable {
    public var name: String
    /// `tcp` or `udp`.
    public var `protocol`: String
    public var vip: String
    public var port: UInt16
    /// IPVS scheduler name (rr, wrr, lc, wlc, sed, nq, sh, dh, mh).
    public var scheduler: String
    /// `syn_proxy`, `toa`, `proxy_protocol_v1`, `proxy_protocol_v2`, as configured.
    public var flags: [String]
    public var quorum: Int
    /// `persistence_timeout` in seconds; nil without persistence.
    public var persistenceTimeout: UInt32?
    /// `persistence_netmask` as a prefix length; nil without persistence.
    public var persistenceNetmask: Int?
    /// Real servers that take new connections now.
    public var liveServers: Int
    public var servers: [RealServerStatus]
    public var stats: TrafficStats
    public var rate: TrafficRate

    public init(
        name: String, protocol: String, vip: String, port: UInt16, scheduler: String, flags: [String], quorum: Int,
        liveServers: Int, servers: [RealServerStatus], stats: TrafficStats = TrafficStats(),
        rate: TrafficRate = TrafficRate()
    ) {
        self.name = name
        self.protocol = `protocol`
        self.vip = vip
        self.port = port
        self.scheduler = scheduler
        self.flags = flags
        self.quorum = quorum
        self.liveServers = liveServers
        self.servers = servers
        self.stats = stats
        self.rate = rate
    }
}
