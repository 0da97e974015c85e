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
    public var clientAddress: ClientAddressMode
    /// TOA option kind and PROXY protocol settings of `clientAddress`.
    public var clientAddressOptions: ClientAddressOptions
    /// Idle timeout of established connections in seconds; nil = the data plane's table.
    public var establishTimeout: UInt32?
    /// Real servers in file order; `port` already defaulted to the virtual server's port.
    public var realServers: [RealServerConfiguration]

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

    /// `tcp 203.0.113.10:80` or `tcp [2001:db8::10]:80`.
    public var endpoint: String {
        "\(ConfigurationVocabulary.name(of: transport)) \(ConfigurationVocabulary.endpoint(vip, port))"
    }
}
