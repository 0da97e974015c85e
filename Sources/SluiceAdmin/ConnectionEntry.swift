// One connection in the admin API's listing: ipvsadm -Lnc's columns plus the local address (FULLNAT).

/// A connection-table entry.
public struct ConnectionEntry: Codable, Sendable, Equatable {
    public var `protocol`: String
    /// IPVS state name (ESTABLISHED, SYN_RECV, ...).
    public var state: String
    /// Milliseconds until it expires if idle.
    public var expiresInMilliseconds: UInt64
    public var service: String
    public var client: String
    public var clientPort: UInt16
    public var vip: String
    public var vport: UInt16
    public var local: String
    public var localPort: UInt16
    public var server: String
    public var serverPort: UInt16
    public var worker: Int

    public init(
        protocol: String, state: String, expiresInMilliseconds: UInt64, service: String, client: String,
        clientPort: UInt16, vip: String, vport: UInt16, local: String, localPort: UInt16, server: String,
        serverPort: UInt16, worker: Int
    ) {
        self.protocol = `protocol`
        self.state = state
        self.expiresInMilliseconds = expiresInMilliseconds
        self.service = service
        self.client = client
        self.clientPort = clientPort
        self.vip = vip
        self.vport = vport
        self.local = local
        self.localPort = localPort
        self.server = server
        self.serverPort = serverPort
        self.worker = worker
    }
}
