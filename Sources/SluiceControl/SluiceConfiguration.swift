// The whole configuration file as a validated value. It is built only by ConfigurationLoader, which
// rejects the file unless every reference resolves and every value is in range, so code that
// receives a SluiceConfiguration does not re-check it. Defaults live here, next to the fields they
// fill, and are documented in Config/sluice.yaml.

import Logging
import SluiceCore
import SluicePacket
import SluiceXDP

/// A loaded and validated Sluice configuration.
public struct SluiceConfiguration: Sendable {
    /// `interfaces:` — where the gateway attaches.
    public struct Interfaces: Sendable, Hashable {
        /// Where VIP traffic arrives.
        public var external: String
        /// Towards the real servers; equal to `external` when the file does not name it.
        public var `internal`: String
        public var xdpMode: XDPMode
        /// `route_table`: when set, the one kernel routing table the data plane routes by, ip rules not
        /// evaluated (the interfaces' VRF table: the kernel's l3mdev rule is not mirrored). nil, the
        /// default: the host's ip rules pick the table for each packet, as the kernel would.
        public var routeTable: UInt32?

        public init(
            external: String, internal: String? = nil, xdpMode: XDPMode = .auto, routeTable: UInt32? = nil
        ) {
            self.external = external
            self.internal = `internal` ?? external
            self.xdpMode = xdpMode
            self.routeTable = routeTable
        }

        /// True when one interface carries both sides.
        public var isSingleInterface: Bool { external == `internal` }
    }

    /// `dataplane:` — sizing and behaviour of the workers.
    public struct DataplaneOptions: Sendable, Hashable {
        /// Worker threads, one per RX queue. Without `workers` (or `queues`) in the file, the RX queue count
        /// of the interfaces when Sluice starts (`resolvingWorkers`).
        public var workers: Int = 1
        /// `queues` as written: RX queues to bind on each interface, the same as `workers`.
        public var queues: Int?
        /// True when the file set `workers` or `queues`.
        public var workersConfigured = false
        /// Local ports the data plane owns on every LIP, split between the workers.
        public var localPortRange: ClosedRange<UInt16> = 1025...65535
        /// Connection-table entries per worker, preallocated.
        public var connectionCapacity: Int = 1 << 20
        /// UMEM frame size in bytes (2048 or 4096).
        public var frameSize: Int = 2048
        /// UMEM frames per worker.
        public var frames: Int = 4096
        /// Clamp the MSS of SYNs to this value when lower; 0 = derive from the egress MTU only.
        public var mssClamp: UInt16 = 0
        /// Decrement TTL / hop limit on forwarded packets.
        public var decrementTTL: Bool = true
        /// Empty rounds a worker polls its rings before it sleeps in poll(); 0 = sleep at once.
        public var idleSpinRounds: Int = 0
        /// CPUs the workers are pinned to (worker i on cpus[i % count]); empty pins worker i to the i-th
        /// CPU of the process's affinity (`sluice run`, CPUAffinity.swift). The control plane's threads are
        /// not pinned by it.
        public var cpus: [Int] = []
        /// Per-state idle timeouts, dpvs defaults overridden by `dataplane.timeouts`.
        public var timeouts: TimeoutTable = .dpvsDefaults
        /// `scheduler_seed`: key of the sh, dh and mh hashes, the same on every gateway.
        public var schedulerSeed: UInt64 = SchedulerOptions.defaultSeed
        /// `maglev_table_size`: slots of each mh service's lookup table, a prime.
        public var maglevTableSize: Int = SchedulerOptions.defaultMaglevTableSize
        /// `udp_flow_limit`: UDP flows one virtual server may hold per worker; 0: a quarter of the table.
        public var udpFlowLimit: Int = 0
        /// `udp_source_flow_limit`: UDP flows one client address may hold per worker; 0: no limit.
        public var udpSourceFlowLimit: Int = UDPFlowBudget.defaultSourceLimit
        /// `ntuple_rules`: program receive classification rules that send real servers' replies to the
        /// queue of the worker owning their local port (NtupleRule.swift); needs a power-of-two worker count
        /// and a NIC with ntuple filters.
        public var ntupleRules = false
        /// `napi_defer_hard_irqs` and `gro_flush_timeout`: NAPI interrupt deferral written to the interfaces
        /// for the run (NAPIDeferral.swift); nil leaves them as the host set them.
        public var napiDeferral: NAPIDeferral?

        public init() {}
    }

    /// `global:` — process-wide settings.
    public struct GlobalOptions: Sendable, Hashable {
        /// Minimum level of log messages.
        public var logLevel: Logger.Level = .info
        /// Where `sluice run` writes its counters every second (`name value` lines); nil = nowhere.
        /// A `--stats-file` command-line option overrides it.
        public var statsFile: String?

        public init() {}
    }

    /// `admin:` — the admin API.
    public struct AdminOptions: Sendable, Hashable {
        /// The unix socket the admin API listens on (mode 0600).
        public var socket: String = "/run/sluice/admin.sock"

        public init() {}
    }

    /// `metrics:` — the Prometheus endpoint.
    public struct MetricsOptions: Sendable, Hashable {
        /// `HOST:PORT` (IPv6 in brackets) to serve `/metrics` on; nil = off.
        public var listen: (host: String, port: Int)? {
            get { listenHost.map { ($0, listenPort) } }
            set {
                listenHost = newValue?.host
                listenPort = newValue?.port ?? 0
            }
        }
        var listenHost: String?
        var listenPort = 0

        public init() {}
    }

    /// `announce:` — route announcement of the VIPs.
    public struct AnnounceOptions: Sendable, Hashable {
        public enum Method: String, Sendable, Hashable, CaseIterable {
            case none
            case bird
            case exec
        }
        public var method: Method = .none
        /// BIRD's control socket and the include file Sluice writes (method bird).
        public var birdControlSocket = "/run/bird/bird.ctl"
        public var birdIncludeFile = "/run/sluice/bird-vips.conf"
        /// The IPv6 VIPs' include file; nil = derived from `birdIncludeFile` (`bird-vips6.conf`).
        public var birdIncludeFile6Setting: String?
        /// The IPv6 include file in effect.
        public var birdIncludeFile6: String {
            if let birdIncludeFile6Setting { return birdIncludeFile6Setting }
            if birdIncludeFile.hasSuffix(".conf") { return String(birdIncludeFile.dropLast(5)) + "6.conf" }
            return birdIncludeFile + "6"
        }
        /// The hook program and its arguments (method exec).
        public var command: [String] = []
        /// How long VIPs stay withdrawn before the data plane stops at shutdown, in milliseconds.
        public var shutdownGraceMilliseconds = 3000
        /// While this file exists the gateway is drained (every VIP withdrawn).
        public var drainFile: String?

        public init() {}
    }

    public var interfaces: Interfaces
    public var announce = AnnounceOptions()
    /// `synproxy.key_file`: the SYN-cookie secret shared by the gateways of a group (CookieKeyFile).
    public var synProxyKeyFile: String?
    /// `sync`: connection sync with the other gateways of the VIPs; nil = off.
    public var sync: SyncOptions?
    public var admin = AdminOptions()
    public var metrics = MetricsOptions()
    /// Local address groups in file order.
    public var localAddressGroups: [LocalAddressGroup]
    /// Virtual servers in file order.
    public var virtualServers: [VirtualServer]
    public var dataplane: DataplaneOptions
    /// `synproxy:` — SYNPROXY settings for services with `syn_proxy: true`.
    public var synProxy: SynProxyConfiguration
    public var global: GlobalOptions
    /// Things that are valid but probably not meant (an empty real server list, an unused group).
    public var warnings: [ConfigurationProblem]

    public init(
        interfaces: Interfaces, localAddressGroups: [LocalAddressGroup], virtualServers: [VirtualServer],
        dataplane: DataplaneOptions = DataplaneOptions(), synProxy: SynProxyConfiguration = SynProxyConfiguration(),
        global: GlobalOptions = GlobalOptions(), warnings: [ConfigurationProblem] = []
    ) {
        self.interfaces = interfaces
        self.localAddressGroups = localAddressGroups
        self.virtualServers = virtualServers
        self.dataplane = dataplane
        self.synProxy = synProxy
        self.global = global
        self.warnings = warnings
    }

    /// The group called `name`, if defined.
    public func localAddressGroup(named name: String) -> LocalAddressGroup? {
        localAddressGroups.first { $0.name == name }
    }
}
