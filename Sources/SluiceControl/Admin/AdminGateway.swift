// What the admin API and the metrics endpoint read from the data plane. The daemon's is
// `RuntimeGateway` (the workers, asked through their mailboxes); tests use a fake.

import SluiceAdmin
import SluiceCore
import SluicePacket

/// Which connections a listing wants.
public struct ConnectionFilter: Sendable {
    public var service: String?
    public var server: IPAddress?
    public var serverPort: UInt16?
    public var client: IPAddress?

    public init(service: String? = nil, server: IPAddress? = nil, serverPort: UInt16? = nil, client: IPAddress? = nil) {
        self.service = service
        self.server = server
        self.serverPort = serverPort
        self.client = client
    }

    /// True for an entry of virtual server `serviceName` that the filter wants (no copy is made).
    public func matches(_ c: Connection, _ serviceName: String) -> Bool {
        if let server, c.real != server { return false }
        if let serverPort, c.realPort != serverPort { return false }
        if let client, c.client != client { return false }
        if let service, serviceName != service { return false }
        return true
    }
}

/// The data plane as the admin API sees it.
public protocol AdminGateway: Sendable {
    /// Per-real-server counters summed over workers; nil when no worker answered in time.
    func serverTraffic() async -> [ServerTraffic]?
    /// Matching connections: the total and the page `offset ..< offset + limit`.
    func connections(_ filter: ConnectionFilter, offset: Int, limit: Int) async -> ConnectionPage?
    /// Port usage of every LIP, summed over workers.
    func localAddresses() async -> [LocalAddressUsage]?
    /// Global counters by name (the stats file's names).
    func counters() -> [(name: String, value: UInt64)]
    /// What a new flow would get (asked of the first worker).
    func explain(
        transport: TransportProtocol, client: IPAddress, clientPort: UInt16, vip: IPAddress, vport: UInt16
    ) async -> Explanation?
    /// Each worker's heartbeat.
    func heartbeats() -> [UInt64]
}
