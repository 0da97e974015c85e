// The data plane's view of the configuration: an immutable value built and validated by
// SluiceControl off the hot path, handed to each worker, and swapped in at a batch boundary.

import SluicePacket

/// Layer-4 protocol of a virtual service. Raw value = IP protocol number.
public enum TransportProtocol: UInt8, Sendable, Hashable, CaseIterable {
    case tcp = 6
    case udp = 17
}

/// Scheduling algorithm (IPVS names; the configuration also accepts `maglev` for `mh`).
public enum SchedulerKind: String, Sendable, Hashable, CaseIterable {
    /// Round robin over servers with weight > 0.
    case rr
    /// Weighted round robin (IPVS interleaved gcd stepping).
    case wrr
    /// Least connections: minimise active·256+inactive.
    case lc
    /// Weighted least connections: minimise active·256+inactive over weight.
    case wlc
    /// Shortest expected delay: minimise (active+1) over weight.
    case sed
    /// Never queue: an idle server (no active connection) first, else as sed.
    case nq
    /// Source hashing: by the client address, keyed by `scheduler_seed`.
    case sh
    /// Destination hashing: by the destination address, which for FULLNAT is the VIP.
    case dh
    /// Maglev hashing of the client address (and port with `mhPort`).
    case mh
}

/// How the real server learns the client's address.
public enum ClientAddressMode: String, Sendable, Hashable, CaseIterable {
    case none
    case toa
    case proxyProtocolV1 = "proxy_protocol_v1"
    case proxyProtocolV2 = "proxy_protocol_v2"
}

/// One real server of a virtual service.
public struct RealServerConfiguration: Sendable, Hashable {
    public var address: IPAddress
    public var port: UInt16
    /// 0 = quiescent: existing connections continue, no new ones are scheduled.
    public var weight: UInt32
    /// False when the control plane took the server out (failed health check without
    /// `inhibit_on_failure`): it gets no new connections and its connections are expired, the client
    /// getting a RST (IPVS's `expire_nodest_conn`). A server that is merely quiescent keeps `isUp`.
    public var isUp: Bool
    /// `uthreshold`: at this many connections the server takes no new ones (0: no limit).
    public var upperThreshold: UInt32
    /// `lthreshold`: an overloaded server takes new connections again below this many (0: below
    /// three quarters of `upperThreshold`, as IPVS does).
    public var lowerThreshold: UInt32

    public init(
        address: IPAddress, port: UInt16, weight: UInt32, isUp: Bool = true, upperThreshold: UInt32 = 0,
        lowerThreshold: UInt32 = 0
    ) {
        self.address = address
        self.port = port
        self.weight = weight
        self.isUp = isUp
        self.upperThreshold = upperThreshold
        self.lowerThreshold = lowerThreshold
    }

    /// The weight the scheduler uses: 0 while the server is down.
    @inlinable
    public var schedulingWeight: UInt32 { isUp ? weight : 0 }
}

/// One virtual service (VIP:port/protocol).
public struct VirtualServiceConfiguration: Sendable, Hashable {
    public var name: String
    public var vip: IPAddress
    public var port: UInt16
    public var transport: TransportProtocol
    public var scheduler: SchedulerKind
    /// The local addresses (LIPs) connections of this service are sourced from.
    public var localAddresses: [IPAddress]
    public var synProxy: Bool
    /// `syn_proxy: auto` (when `synProxy` is off): SYNs get cookies while the service has
    /// `synproxy.auto_half_open` half-open connections (Dataplane+SynProxyAuto.swift).
    public var synProxyAuto: Bool
    public var clientAddress: ClientAddressMode
    /// TOA kind and PROXY protocol options of `clientAddress`.
    public var clientAddressOptions: ClientAddressOptions
    /// Overrides the ESTABLISHED (TCP) or NORMAL (UDP) timeout, in seconds.
    public var establishTimeout: UInt32?
    public var realServers: [RealServerConfiguration]
    /// mh only: rehash past quiescent servers instead of refusing (IPVS mh-fallback).
    public var mhFallback: Bool
    /// mh only: hash the client port as well as its address (IPVS mh-port).
    public var mhPort: Bool
    /// Seconds a client keeps its real server after its last connection (IPVS `-p`); 0: no persistence.
    public var persistenceTimeout: UInt32
    /// Prefix length of the client network that shares one template (IPVS `-M`); 32 or 128: one client.
    public var persistenceNetmask: UInt8
    /// A template to a quiescent (weight 0) server is dropped instead of followed (IPVS's
    /// `expire_quiescent_template`). A template to a server that is down is always dropped.
    public var expireQuiescentTemplate: Bool

    public init(
        name: String, vip: IPAddress, port: UInt16, transport: TransportProtocol, scheduler: SchedulerKind,
        localAddresses: [IPAddress], synProxy: Bool = false, clientAddress: ClientAddressMode = .none,
        clientAddressOptions: ClientAddressOptions = ClientAddressOptions(), establishTimeout: UInt32? = nil,
        realServers: [RealServerConfiguration], mhFallback: Bool = false, mhPort: Bool = false,
        persistenceTimeout: UInt32 = 0, persistenceNetmask: UInt8? = nil, expireQuiescentTemplate: Bool = false,
        synProxyAuto: Bool = false
    ) {
        self.synProxyAuto = synProxyAuto
        self.name = name
        self.vip = vip
        self.port = port
        self.transport = transport
        self.scheduler = scheduler
        self.localAddresses = localAddresses
        self.synProxy = synProxy
        self.clientAddress = clientAddress
        self.clientAddressOptions = clientAddressOptions
        self.establishTimeout = establishTimeout
        self.realServers = realServers
        self.mhFallback = mhFallback
        self.mhPort = mhPort
        self.persistenceTimeout = persistenceTimeout
        self.persistenceNetmask = persistenceNetmask ?? (vip.isV6 ? 128 : 32)
        self.expireQuiescentTemplate = expireQuiescentTemplate
    }
}

/// Everything a worker's data plane needs, as one immutable value.
public struct DataplaneConfiguration: Sendable {
    public var services: [VirtualServiceConfiguration]
    /// Local ports the data plane owns on every LIP (the XDP program steers only these to workers).
    public var localPortRange: ClosedRange<UInt16>
    /// Connection-table capacity per worker (entries are preallocated).
    public var connectionCapacity: Int
    /// Per-state timeouts in seconds.
    public var timeouts: TimeoutTable
    /// Clamp the MSS of SYN and SYN-ACK segments to this value when lower (0 = from the egress MTU only).
    public var mssClamp: UInt16
    /// Decrement TTL / hop limit and answer expiry with ICMP time exceeded.
    public var decrementTTL: Bool
    /// SYNPROXY settings, used by services with `synProxy`.
    public var synProxy: SynProxyConfiguration
    /// Key of the sh, dh and mh hashes; the same on every gateway of a deployment.
    public var schedulerSeed: UInt64
    /// Slots of each mh service's lookup table (prime).
    public var maglevTableSize: Int
    /// UDP flows one virtual server may hold per worker; 0: a quarter of the connection table.
    public var udpFlowLimit: Int
    /// UDP flows one client address may hold per worker; 0: no limit.
    public var udpSourceFlowLimit: Int
    /// Connection events a worker holds for the sync service between two collections; 0: sync is off.
    public var syncOutboxCapacity = 0
    /// LIPs of dead peers this gateway answers for (connection sync): steered to the workers like its
    /// own LIPs, though no service allocates from them.
    public var adoptedLocalAddresses: [IPAddress] = []

    public init(
        services: [VirtualServiceConfiguration], localPortRange: ClosedRange<UInt16> = 1025...65535,
        connectionCapacity: Int = 1 << 20, timeouts: TimeoutTable = .dpvsDefaults, mssClamp: UInt16 = 0,
        decrementTTL: Bool = true, synProxy: SynProxyConfiguration = SynProxyConfiguration(),
        schedulerSeed: UInt64 = SchedulerOptions.defaultSeed,
        maglevTableSize: Int = SchedulerOptions.defaultMaglevTableSize, udpFlowLimit: Int = 0,
        udpSourceFlowLimit: Int = UDPFlowBudget.defaultSourceLimit
    ) {
        self.services = services
        self.localPortRange = localPortRange
        self.connectionCapacity = connectionCapacity
        self.timeouts = timeouts
        self.mssClamp = mssClamp
        self.decrementTTL = decrementTTL
        self.synProxy = synProxy
        self.schedulerSeed = schedulerSeed
        self.maglevTableSize = maglevTableSize
        self.udpFlowLimit = udpFlowLimit
        self.udpSourceFlowLimit = udpSourceFlowLimit
    }
}
