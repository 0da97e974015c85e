// One `virtual_servers[]` entry as written in the file: unlike SluiceCore's
// VirtualServiceConfiguration it keeps the local address group by name, which the start-up log and
// a later reload-by-diff need; `SluiceConfiguration.dataplaneConfiguration()` resolves it.

import SluiceCore
import SluicePacket

/// A virtual server (VIP:port/protocol) and its real servers.
public struct VirtualServer: Sendable, Hashable {
    /// Unique name, used in logs and metrics.
    public var name: String
    public var vip: IPAddress
    public var port: UInt16
    public var transport: TransportProtocol
    public var scheduler: SchedulerKind
    /// Name of the `local_address_groups` entry connections are sourced from.
    public var localAddressGroup: String
    public var synProxy: Bool
    /// `syn_proxy: auto` (the default for TCP): cookies while the service has many half-open connections.
    public var synProxyAuto = false
    public var clientAddress: ClientAddressMode
    /// TOA option kind and PROXY protocol settings of `clientAddress`.
    public var clientAddressOptions: ClientAddressOptions
    /// Idle timeout of established connections in seconds; nil = the data plane's table.
    public var establishTimeout: UInt32?
    /// Real servers in file order; `port` already defaulted to the virtual server's port.
    public var realServers: [RealServerConfiguration]
    /// `health_check:` for every real server that does not override it.
    public var healthCheck = HealthCheck()
    /// Real servers' own `health_check:`, by address and port.
    public var healthCheckOverrides: [Endpoint: HealthCheck] = [:]
    /// `inhibit_on_failure`: a failed server keeps its connections at weight 0 instead of losing them.
    public var inhibitOnFailure = false
    /// `quorum`: fewer live real servers than this and the virtual server counts as down.
    public var quorum = 1
    /// `sorry_server`: gets new connections while no real server is live.
    public var sorryServer: Endpoint?
    /// `mh_fallback` (scheduler mh): rehash past quiescent servers instead of refusing the client.
    public var mhFallback = false
    /// `mh_port` (scheduler mh): hash the client port as well as its address.
    public var mhPort = false
    /// `persistence_timeout` in seconds (IPVS `-p`): a client keeps its real server this long after
    /// its last connection; 0: no persistence.
    public var persistenceTimeout: UInt32 = 0
    /// `persistence_netmask` (IPVS `-M`): the prefix length of the client network that shares a
    /// template; nil: each client address alone.
    public var persistenceNetmask: UInt8?
    /// `expire_quiescent_template`: a template to a server at weight 0 is dropped, not followed.
    public var expireQuiescentTemplate = false

    /// An address and port.
    public struct Endpoint: Sendable, Hashable {
        public var address: IPAddress
        public var port: UInt16

        public init(address: IPAddress, port: UInt16) {
            self.address = address
            self.port = port
        }
    }

    public init(
        name: String, vip: IPAddress, port: UInt16, transport: TransportProtocol, scheduler: SchedulerKind,
        localAddressGroup: String, synProxy: Bool = false, clientAddress: ClientAddressMode = .none,
        clientAddressOptions: ClientAddressOptions = ClientAddressOptions(), establishTimeout: UInt32? = nil,
        realServers: [RealServerConfiguration]
    ) {
        self.name = name
        self.vip = vip
        self.port = port
        self.transport = transport
        self.scheduler = scheduler
        self.localAddressGroup = localAddressGroup
        self.synProxy = synProxy
        self.clientAddress = clientAddress
        self.clientAddressOptions = clientAddressOptions
        self.establishTimeout = establishTimeout
        self.realServers = realServers
    }

    /// The check of one of its real servers: its own, else the virtual server's.
    public func healthCheck(for server: RealServerConfiguration) -> HealthCheck {
        healthCheckOverrides[Endpoint(address: server.address, port: server.port)] ?? healthCheck
    }

    /// `tcp 203.0.113.10:80` or `tcp [2001:db8::10]:80`.
    public var endpoint: String {
        "\(ConfigurationVocabulary.name(of: transport)) \(ConfigurationVocabulary.endpoint(vip, port))"
    }
}
