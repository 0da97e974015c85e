// The file's sections, read one at a time into drafts whose fields stay optional: a section with a
// bad value still yields everything else it holds, so that the cross-checks (duplicates, references,
// address families) run on the rest and the operator sees every problem in one pass. Only when no
// problem was recorded are the drafts assembled into a SluiceConfiguration.
//
// Vocabulary follows keepalived/dpvs (docs/design.md §5): `scheduler`, `weight`,
// `local_address_group`, `syn_proxy`, `establish_timeout`. The client-address keys of a virtual
// server (`toa_option_kind`, `proxy_protocol`) are read in ConfigurationReader+ClientAddress.swift.

import Logging
import SluiceCore
import SluicePacket
import SluiceXDP
import Yams

extension ConfigurationReader {
    static let topLevelKeys = [
        "interfaces", "local_address_groups", "virtual_servers", "dataplane", "synproxy", "global", "admin",
        "metrics", "announce", "sync",
    ]
    static let interfaceKeys = ["external", "internal", "xdp_mode", "route_table"]
    /// Routing table ids a data plane may route by: any but 0 (unspecified) and 255 (local).
    static let routeTables = 1...Int(UInt32.max)
    static let localRouteTable = 255
    static let virtualServerKeys = [
        "name", "vip", "port", "protocol", "scheduler", "local_address_group", "syn_proxy", "client_address",
        "toa_option_kind", "proxy_protocol", "establish_timeout", "real_servers", "health_check",
        "inhibit_on_failure", "quorum", "sorry_server", "mh_fallback", "mh_port", "persistence_timeout",
        "persistence_netmask", "expire_quiescent_template",
    ]
    static let realServerKeys = ["address", "port", "weight", "health_check", "uthreshold", "lthreshold"]
    /// Bounds of `uthreshold` and `lthreshold` (connections).
    static let thresholds = 0...100_000_000
    static let dataplaneKeys = [
        "workers", "queues", "local_port_range", "connection_capacity", "frame_size", "frames", "mss_clamp",
        "decrement_ttl", "idle_spin_rounds", "timeouts", "scheduler_seed", "maglev_table_size", "cpus",
        "udp_flow_limit", "udp_source_flow_limit", "ntuple_rules", "napi_defer_hard_irqs", "gro_flush_timeout",
    ]
    static let globalKeys = ["log_level", "stats_file"]
    static let synProxyKeys = [
        "mss", "wscale", "sack", "timestamps", "retries", "queue", "rst_on_bad_cookie", "ack_storm_threshold",
        "answer_in_xdp", "key_file", "auto_half_open",
    ]
    /// Bounds of `synproxy.auto_half_open`.
    static let autoHalfOpenRange = 16...1_000_000

    /// The scheduler used when a virtual server names none: ipvsadm's default.
    static let defaultScheduler = SchedulerKind.wlc

    /// The words `scheduler` accepts: the IPVS names, and `maglev` for mh.
    static let schedulerWords: [(String, SchedulerKind)] =
        SchedulerKind.allCases.map { ($0.rawValue, $0) } + [("maglev", .mh)]

    /// Bounds of `dataplane.maglev_table_size` (which must also be prime).
    static let maglevTableSizes = 251...1_048_573

    /// A local address group as read, with the key path of each address.
    struct GroupDraft {
        var name: String
        var path: String
        var node: Node
        var addresses: [(address: IPAddress, path: String)] = []
        var complete = true
    }

    /// A real server as read; nil fields had a problem (already recorded).
    struct RealServerDraft {
        var path: String
        var node: Node
        var address: IPAddress?
        var port: UInt16?
        var weight: UInt32?
        var upperThreshold: UInt32? = 0
        var lowerThreshold: UInt32? = 0
        /// The server's own `health_check:`, nil when it has none (or it had a problem).
        var healthCheck: HealthCheck?
    }

    /// A virtual server as read; nil fields had a problem (already recorded) or were missing.
    struct VirtualServerDraft {
        var path: String
        var node: Node
        /// The value nodes by key, to position cross-check problems at the offending value.
        var nodes: [String: Node] = [:]
        var name: String?
        var vip: IPAddress?
        var port: UInt16?
        var transport: TransportProtocol?
        var localAddressGroup: String?
        var scheduler: SchedulerKind? = ConfigurationReader.defaultScheduler
        var synProxy: Bool? = false
        /// `syn_proxy: auto` (the default).
        var synProxyAuto = true
        var clientAddress: ClientAddressMode? = ClientAddressMode.none
        var clientAddressOptions: ClientAddressOptions? = ClientAddressOptions()
        var establishTimeout: UInt32??
        var realServers: [RealServerDraft] = []
        var realServersComplete = true
        var healthCheck: HealthCheck? = HealthCheck()
        var inhibitOnFailure: Bool? = false
        var quorum: Int? = 1
        var sorryServer: VirtualServer.Endpoint??
        var mhFallback: Bool? = false
        var mhPort: Bool? = false
        var persistenceTimeout: UInt32? = 0
        var persistenceNetmask: UInt8??
        var expireQuiescentTemplate: Bool? = false
    }

    // MARK: - Document

    /// Reads the whole document; nil when any error was recorded.
    func read(root: Node?) -> SluiceConfiguration? {
        guard let root else {
            error("", "the file is empty; it needs at least `interfaces` and `virtual_servers`")
            return nil
        }
        guard
            let top = fields(of: root, at: "", allowed: Self.topLevelKeys, required: ["interfaces", "virtual_servers"])
        else { return nil }

        let interfaces = top["interfaces"].flatMap { readInterfaces($0, at: "interfaces") }
        let groups = top["local_address_groups"].map { readGroups($0, at: "local_address_groups") } ?? []
        let servers = top["virtual_servers"].map { readVirtualServers($0, at: "virtual_servers") } ?? []
        let dataplane = optional(top["dataplane"], default: SluiceConfiguration.DataplaneOptions()) {
            readDataplane($0, at: "dataplane")
        }
        let synProxy = optional(top["synproxy"], default: SynProxyConfiguration()) {
            readSynProxy($0, at: "synproxy")
        }
        let keyFile = optional(top["synproxy"], default: String?.none) { node in
            guard case .mapping(let mapping) = node, let file = mapping["key_file"] else { return String?.none }
            return absolutePath(file, at: "synproxy.key_file").map(Optional.some)
        }
        let global = optional(top["global"], default: SluiceConfiguration.GlobalOptions()) {
            readGlobal($0, at: "global")
        }

        let admin = optional(top["admin"], default: SluiceConfiguration.AdminOptions()) {
            readAdmin($0, at: "admin")
        }
        let metrics = optional(top["metrics"], default: SluiceConfiguration.MetricsOptions()) {
            readMetrics($0, at: "metrics")
        }
        let announce = optional(top["announce"], default: SluiceConfiguration.AnnounceOptions()) {
            readAnnounce($0, at: "announce")
        }

        let sync = optional(top["sync"], default: SyncOptions?.none) { readSync($0, at: "sync").map(Optional.some) }

        crossCheck(groups: groups, servers: servers, dataplane: dataplane)

        guard problems.isEmpty, let interfaces, let dataplane, let synProxy, let global, let admin, let metrics,
            let announce, let keyFile, let sync
        else {
            return nil
        }
        var configuration = assemble(
            interfaces: interfaces, groups: groups, servers: servers, dataplane: dataplane, synProxy: synProxy,
            global: global
        )
        configuration?.admin = admin
        configuration?.metrics = metrics
        configuration?.announce = announce
        configuration?.synProxyKeyFile = keyFile ?? nil
        configuration?.sync = sync ?? nil
        return configuration
    }

    /// Builds the configuration from drafts known to be complete (no problem was recorded).
    private func assemble(
        interfaces: SluiceConfiguration.Interfaces, groups: [GroupDraft], servers: [VirtualServerDraft],
        dataplane: SluiceConfiguration.DataplaneOptions, synProxy: SynProxyConfiguration,
        global: SluiceConfiguration.GlobalOptions
    ) -> SluiceConfiguration? {
        var virtualServers: [VirtualServer] = []
        for draft in servers {
            guard let name = draft.name, let vip = draft.vip, let port = draft.port,
                let transport = draft.transport, let group = draft.localAddressGroup,
                let scheduler = draft.scheduler, let synProxy = draft.synProxy,
                let clientAddress = draft.clientAddress, let clientAddressOptions = draft.clientAddressOptions,
                let establishTimeout = draft.establishTimeout
            else { return nil }
            guard let healthCheck = draft.healthCheck, let inhibit = draft.inhibitOnFailure,
                let quorum = draft.quorum, let sorryServer = draft.sorryServer, let mhFallback = draft.mhFallback,
                let mhPort = draft.mhPort, let persistenceTimeout = draft.persistenceTimeout,
                let persistenceNetmask = draft.persistenceNetmask,
                let expireQuiescentTemplate = draft.expireQuiescentTemplate
            else { return nil }
            var realServers: [RealServerConfiguration] = []
            var overrides: [VirtualServer.Endpoint: HealthCheck] = [:]
            for rs in draft.realServers {
                guard let address = rs.address, let rsPort = rs.port, let weight = rs.weight,
                    let upper = rs.upperThreshold, let lower = rs.lowerThreshold
                else { return nil }
                realServers.append(
                    RealServerConfiguration(
                        address: address, port: rsPort, weight: weight, upperThreshold: upper, lowerThreshold: lower))
                if let check = rs.healthCheck {
                    overrides[VirtualServer.Endpoint(address: address, port: rsPort)] = check
                }
            }
            var server = VirtualServer(
                name: name, vip: vip, port: port, transport: transport, scheduler: scheduler,
                localAddressGroup: group, synProxy: synProxy, clientAddress: clientAddress,
                clientAddressOptions: clientAddressOptions, establishTimeout: establishTimeout,
                realServers: realServers
            )
            server.healthCheck = healthCheck
            server.healthCheckOverrides = overrides
            server.inhibitOnFailure = inhibit
            server.quorum = quorum
            server.sorryServer = sorryServer
            server.mhFallback = mhFallback
            server.mhPort = mhPort
            server.synProxyAuto = draft.synProxyAuto && transport == .tcp && !synProxy
            server.persistenceTimeout = persistenceTimeout
            server.persistenceNetmask = persistenceNetmask
            server.expireQuiescentTemplate = expireQuiescentTemplate
            virtualServers.append(server)
        }
        return SluiceConfiguration(
            interfaces: interfaces,
            localAddressGroups: groups.map { LocalAddressGroup(name: $0.name, addresses: $0.addresses.map(\.address)) },
            virtualServers: virtualServers, dataplane: dataplane, synProxy: synProxy, global: global,
            warnings: warnings
        )
    }

    // MARK: - interfaces

    func readInterfaces(_ node: Node, at path: String) -> SluiceConfiguration.Interfaces? {
        guard let f = fields(of: node, at: path, allowed: Self.interfaceKeys, required: ["external"]) else {
            return nil
        }
        let external = f["external"].flatMap { interfaceName($0, at: Self.child(path, "external")) }
        let `internal` = optional(f["internal"], default: String?.none) {
            interfaceName($0, at: Self.child(path, "internal")).map(Optional.some)
        }
        let mode = optional(f["xdp_mode"], default: XDPMode.auto) {
            choice($0, at: Self.child(path, "xdp_mode"), of: XDPMode.self)
        }
        let table = optional(f["route_table"], default: Int?.none) { node in
            integer(node, at: Self.child(path, "route_table"), in: Self.routeTables).flatMap { table -> Int?? in
                guard table != Self.localRouteTable else {
                    error(
                        Self.child(path, "route_table"),
                        "255 is the kernel's local table (addresses of this host), not a table to route by",
                        at: node)
                    return nil
                }
                return table
            }
        }
        guard let external, let `internal`, let mode, let table else { return nil }
        return SluiceConfiguration.Interfaces(
            external: external, internal: `internal`, xdpMode: mode, routeTable: table.map(UInt32.init))
    }

    /// A Linux interface name: 1 to 15 bytes (IFNAMSIZ less the NUL), no '/', ':' or white space.
    func interfaceName(_ node: Node, at path: String) -> String? {
        guard let name = string(node, at: path) else { return nil }
        let valid =
            (1...15).contains(name.utf8.count) && name != "." && name != ".."
            && !name.contains(where: { $0 == "/" || $0 == ":" || $0.isWhitespace })
        guard valid else {
            error(path, "\"\(name)\" is not a valid interface name (1-15 characters, no '/', ':' or spaces)", at: node)
            return nil
        }
        return name
    }

    // MARK: - local_address_groups

    func readGroups(_ node: Node, at path: String) -> [GroupDraft] {
        guard let entries = namedEntries(node, at: path) else { return [] }
        var groups: [GroupDraft] = []
        for (name, keyNode, value) in entries {
            let groupPath = Self.child(path, name)
            var group = GroupDraft(name: name, path: groupPath, node: keyNode)
            guard let items = sequence(value, at: groupPath) else {
                group.complete = false
                groups.append(group)
                continue
            }
            if items.isEmpty {
                error(groupPath, "a local address group needs at least one address", at: value)
                group.complete = false
            }
            for (index, item) in items.enumerated() {
                let itemPath = Self.element(groupPath, index)
                guard let address = address(item, at: itemPath), usable(address, at: itemPath, node: item) else {
                    group.complete = false
                    continue
                }
                if let first = group.addresses.first(where: { $0.address == address }) {
                    error(itemPath, "\(address) is listed twice (also \(first.path))", at: item)
                    continue
                }
                group.addresses.append((address, itemPath))
            }
            groups.append(group)
        }
        return groups
    }

    /// Reports addresses that cannot be a VIP, LIP or real server: unspecified, loopback, multicast,
    /// limited broadcast and IPv6 link-local (which would need a zone).
    func usable(_ address: IPAddress, at path: String, node: Node) -> Bool {
        let reason: String?
        if address.isV6 {
            let top16 = address.high >> 48
            if address.high == 0 && address.low == 0 {
                reason = "the unspecified address"
            } else if address.high == 0 && address.low == 1 {
                reason = "a loopback address"
            } else if top16 >> 8 == 0xFF {
                reason = "a multicast address"
            } else if top16 & 0xFFC0 == 0xFE80 {
                reason = "a link-local address"
            } else {
                reason = nil
            }
        } else {
            let v4 = address.v4
            if v4 == 0 {
                reason = "the unspecified address"
            } else if v4 >> 24 == 127 {
                reason = "a loopback address"
            } else if v4 >> 28 == 0xE {
                reason = "a multicast address"
            } else if v4 == 0xFFFF_FFFF {
                reason = "the broadcast address"
            } else {
                reason = nil
            }
        }
        guard let reason else { return true }
        error(path, "\(address) is \(reason); it cannot be used here", at: node)
        return false
    }

    // MARK: - virtual_servers

    func readVirtualServers(_ node: Node, at path: String) -> [VirtualServerDraft] {
        guard let items = sequence(node, at: path) else { return [] }
        return items.enumerated().map { index, item in
            readVirtualServer(item, at: Self.element(path, index))
        }
    }

    func readVirtualServer(_ node: Node, at path: String) -> VirtualServerDraft {
        var draft = VirtualServerDraft(path: path, node: node)
        guard
            let f = fields(
                of: node, at: path, allowed: Self.virtualServerKeys,
                required: ["name", "vip", "port", "protocol", "local_address_group"]
            )
        else {
            draft.scheduler = nil
            return draft
        }
        func at(_ key: String) -> String { Self.child(path, key) }
        draft.nodes = f

        draft.name = f["name"].flatMap { serviceName($0, at: at("name")) }
        draft.vip = f["vip"].flatMap { vip in
            address(vip, at: at("vip")).flatMap { usable($0, at: at("vip"), node: vip) ? $0 : nil }
        }
        draft.port = f["port"].flatMap { integer($0, at: at("port"), in: 1...65535) }.map { UInt16($0) }
        draft.transport = f["protocol"].flatMap {
            choice(
                $0, at: at("protocol"),
                from: TransportProtocol.allCases.map { (ConfigurationVocabulary.name(of: $0), $0) })
        }
        draft.localAddressGroup = f["local_address_group"].flatMap { string($0, at: at("local_address_group")) }
        draft.scheduler = optional(f["scheduler"], default: Self.defaultScheduler) {
            choice($0, at: at("scheduler"), from: Self.schedulerWords)
        }
        // true, false or auto (the default): cookies only while the service has many half-open connections.
        if let node = f["syn_proxy"], Self.kind(node) == .str, node.scalar?.string == "auto" {
            draft.synProxy = false
        } else {
            draft.synProxy = optional(f["syn_proxy"], default: false) { node in
                guard Self.kind(node) == .bool else {
                    error(at("syn_proxy"), "expected true, false or auto, found \(Self.describe(node))", at: node)
                    return nil
                }
                return boolean(node, at: at("syn_proxy"))
            }
            draft.synProxyAuto = f["syn_proxy"] == nil
        }
        draft.clientAddress = optional(f["client_address"], default: ClientAddressMode.none) {
            choice($0, at: at("client_address"), of: ClientAddressMode.self)
        }
        draft.establishTimeout = optional(f["establish_timeout"], default: UInt32?.none) {
            duration($0, at: at("establish_timeout")).map(Optional.some)
        }

        draft.clientAddressOptions = readClientAddressOptions(f, mode: draft.clientAddress, at: path)
        draft.healthCheck = optional(f["health_check"], default: HealthCheck()) {
            readHealthCheck($0, at: at("health_check"))
        }
        draft.inhibitOnFailure = optional(f["inhibit_on_failure"], default: false) {
            boolean($0, at: at("inhibit_on_failure"))
        }
        draft.quorum = optional(f["quorum"], default: 1) { integer($0, at: at("quorum"), in: 0...65535) }
        draft.sorryServer = optional(f["sorry_server"], default: VirtualServer.Endpoint?.none) {
            readEndpoint($0, at: at("sorry_server"), defaultPort: draft.port).map(Optional.some)
        }

        draft.mhFallback = optional(f["mh_fallback"], default: false) { boolean($0, at: at("mh_fallback")) }
        draft.mhPort = optional(f["mh_port"], default: false) { boolean($0, at: at("mh_port")) }
        if draft.scheduler != nil && draft.scheduler != .mh {
            for key in ["mh_fallback", "mh_port"] where f[key] != nil {
                warning(at(key), "\(key) applies only to scheduler mh (maglev); it is ignored", at: f[key])
            }
        }

        draft.persistenceTimeout = optional(f["persistence_timeout"], default: 0) {
            duration($0, at: at("persistence_timeout"))
        }
        let hostPrefix = draft.vip?.isV6 == true ? 128 : 32
        draft.persistenceNetmask = optional(f["persistence_netmask"], default: UInt8?.none) {
            integer($0, at: at("persistence_netmask"), in: 0...hostPrefix).map { Optional.some(UInt8($0)) }
        }
        draft.expireQuiescentTemplate = optional(f["expire_quiescent_template"], default: false) {
            boolean($0, at: at("expire_quiescent_template"))
        }
        if draft.persistenceTimeout == 0 {
            for key in ["persistence_netmask", "expire_quiescent_template"] where f[key] != nil {
                warning(at(key), "\(key) applies only with a persistence_timeout; it is ignored", at: f[key])
            }
        }

        if draft.transport == .udp {
            if draft.synProxy == true, let node = f["syn_proxy"] {
                error(at("syn_proxy"), "syn_proxy applies only to tcp services", at: node)
            }
            if let mode = draft.clientAddress, mode != .none, let node = f["client_address"] {
                error(at("client_address"), "\(mode.rawValue) applies only to tcp services; use none", at: node)
            }
        }

        if let list = f["real_servers"] {
            let rsPath = at("real_servers")
            if let items = sequence(list, at: rsPath) {
                draft.realServers = items.enumerated().map { index, item in
                    readRealServer(
                        item, at: Self.element(rsPath, index), defaultPort: draft.port,
                        check: draft.healthCheck ?? HealthCheck())
                }
            } else {
                draft.realServersComplete = false
            }
        }
        return draft
    }

    /// A virtual server name: 1 to 64 letters, digits, '-', '_' or '.', so it can label logs and metrics.
    func serviceName(_ node: Node, at path: String) -> String? {
        guard let name = string(node, at: path) else { return nil }
        let valid =
            (1...64).contains(name.count)
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") }
        guard valid else {
            error(path, "\"\(name)\" is not a valid name (1-64 letters, digits, '-', '_' or '.')", at: node)
            return nil
        }
        return name
    }

    func readRealServer(_ node: Node, at path: String, defaultPort: UInt16?, check: HealthCheck) -> RealServerDraft {
        var draft = RealServerDraft(path: path, node: node)
        guard let f = fields(of: node, at: path, allowed: Self.realServerKeys, required: ["address"]) else {
            return draft
        }
        let addressPath = Self.child(path, "address")
        draft.address = f["address"].flatMap { node in
            address(node, at: addressPath).flatMap { usable($0, at: addressPath, node: node) ? $0 : nil }
        }
        if let port = f["port"] {
            draft.port = integer(port, at: Self.child(path, "port"), in: 1...65535).map { UInt16($0) }
        } else {
            draft.port = defaultPort
        }
        draft.weight = optional(f["weight"], default: 1) {
            integer($0, at: Self.child(path, "weight"), in: 0...65535)
        }.map { UInt32($0) }
        for (key, keyPath) in [("uthreshold", \RealServerDraft.upperThreshold), ("lthreshold", \.lowerThreshold)] {
            draft[keyPath: keyPath] = optional(f[key], default: 0) {
                integer($0, at: Self.child(path, key), in: Self.thresholds)
            }.map { UInt32($0) }
        }
        if let upper = draft.upperThreshold, let lower = draft.lowerThreshold, lower > 0, let node = f["lthreshold"] {
            if upper == 0 {
                warning(
                    Self.child(path, "lthreshold"), "lthreshold applies only with a uthreshold; it is ignored", at: node
                )
            } else if lower >= upper {
                error(Self.child(path, "lthreshold"), "lthreshold \(lower) must be below uthreshold \(upper)", at: node)
            }
        }
        if let node = f["health_check"] {
            draft.healthCheck = readHealthCheck(node, at: Self.child(path, "health_check"), base: check)
            if draft.healthCheck == nil { draft.weight = nil }
        }
        return draft
    }

    // MARK: - dataplane

    func readDataplane(_ node: Node, at path: String) -> SluiceConfiguration.DataplaneOptions? {
        guard let f = fields(of: node, at: path, allowed: Self.dataplaneKeys) else { return nil }
        func at(_ key: String) -> String { Self.child(path, key) }
        var options = SluiceConfiguration.DataplaneOptions()
        var complete = true
        func set<T>(
            _ key: String, _ keyPath: WritableKeyPath<SluiceConfiguration.DataplaneOptions, T>, _ read: (Node) -> T?
        ) {
            guard let node = f[key] else { return }
            if let value = read(node) {
                options[keyPath: keyPath] = value
            } else {
                complete = false
            }
        }
        set("workers", \.workers) { integer($0, at: at("workers"), in: 1...256) }
        set("queues", \.queues) { integer($0, at: at("queues"), in: 1...256).map(Optional.some) }
        set("local_port_range", \.localPortRange) { portRange($0, at: at("local_port_range")) }
        set("connection_capacity", \.connectionCapacity) {
            integer($0, at: at("connection_capacity"), in: 1...(1 << 28))
        }
        set("frame_size", \.frameSize) { node in
            integer(node, at: at("frame_size"), in: 2048...4096).flatMap { size in
                guard size == 2048 || size == 4096 else {
                    error(at("frame_size"), "\(size) is not an AF_XDP frame size; use 2048 or 4096", at: node)
                    return nil
                }
                return size
            }
        }
        set("frames", \.frames) { integer($0, at: at("frames"), in: 64...(1 << 22)) }
        set("mss_clamp", \.mssClamp) { node in
            integer(node, at: at("mss_clamp"), in: 0...65535).flatMap { mss in
                guard mss == 0 || mss >= 536 else {
                    error(
                        at("mss_clamp"), "\(mss) is below the minimum MSS of 536; use 0 to turn clamping off", at: node)
                    return nil
                }
                return UInt16(mss)
            }
        }
        set("decrement_ttl", \.decrementTTL) { boolean($0, at: at("decrement_ttl")) }
        set("idle_spin_rounds", \.idleSpinRounds) { integer($0, at: at("idle_spin_rounds"), in: 0...1_000_000) }
        set("timeouts", \.timeouts) { readTimeouts($0, at: at("timeouts")) }
        set("cpus", \.cpus) { readCPUs($0, at: at("cpus")) }
        set("scheduler_seed", \.schedulerSeed) {
            integer($0, at: at("scheduler_seed"), in: 0...Int.max).map { UInt64($0) }
        }
        set("udp_flow_limit", \.udpFlowLimit) { integer($0, at: at("udp_flow_limit"), in: 0...(1 << 28)) }
        set("udp_source_flow_limit", \.udpSourceFlowLimit) {
            integer($0, at: at("udp_source_flow_limit"), in: 0...Int(UInt16.max))
        }
        set("maglev_table_size", \.maglevTableSize) { node in
            integer(node, at: at("maglev_table_size"), in: Self.maglevTableSizes).flatMap { size in
                guard SchedulerServers.isPrime(size) else {
                    error(
                        at("maglev_table_size"),
                        "\(size) is not a prime number; Maglev needs a prime table size such as 65537 or 4093",
                        at: node)
                    return nil
                }
                return size
            }
        }
        // One worker per queue: `queues` is another way to say `workers`, and the two must agree.
        if let queues = options.queues {
            if f["workers"] != nil, options.workers != queues {
                error(
                    at("queues"),
                    "dataplane.workers is \(options.workers) but dataplane.queues is \(queues): Sluice runs one "
                        + "worker per RX queue; set one of them", at: f["queues"]!)
                complete = false
            }
            options.workers = queues
        }
        options.workersConfigured = f["workers"] != nil || f["queues"] != nil
        set("ntuple_rules", \.ntupleRules) { boolean($0, at: at("ntuple_rules")) }
        // A NIC rule matches port bits under a mask, so it can only express lport mod workers (the owner
        // of a reply, FlowOwnership.swift) for a power of two. An unset count is checked at start.
        if options.ntupleRules, options.workersConfigured, !NtupleRule.canSteer(workers: options.workers) {
            error(
                at("ntuple_rules"),
                "ntuple rules steer replies by the low bits of the local port, which needs a power-of-two "
                    + "worker count, but dataplane.workers is \(options.workers); "
                    + NtupleRule.workerAdvice(workers: options.workers),
                at: f["ntuple_rules"]!)
            complete = false
        }
        if !readNAPIDeferral(f, at: path, into: &options) { complete = false }
        return complete ? options : nil
    }

    /// `napi_defer_hard_irqs` and `gro_flush_timeout` (nanoseconds), given together or not at all: the
    /// kernel defers only when both are above zero, and half of the pair would leave the host's other
    /// half in force. False when either is wrong (the error is recorded).
    func readNAPIDeferral(
        _ f: [String: Node], at path: String, into options: inout SluiceConfiguration.DataplaneOptions
    ) -> Bool {
        let irqsNode = f["napi_defer_hard_irqs"]
        let timeoutNode = f["gro_flush_timeout"]
        guard irqsNode != nil || timeoutNode != nil else { return true }
        guard let irqsNode, let timeoutNode else {
            let (given, missing) =
                irqsNode != nil
                ? ("napi_defer_hard_irqs", "gro_flush_timeout") : ("gro_flush_timeout", "napi_defer_hard_irqs")
            error(
                Self.child(path, given),
                "\(given) needs \(missing) as well: the kernel defers NAPI polls only when both are above zero "
                    + "(e.g. napi_defer_hard_irqs: 2, gro_flush_timeout: 200000)",
                at: (irqsNode ?? timeoutNode)!)
            return false
        }
        let irqs = integer(irqsNode, at: Self.child(path, "napi_defer_hard_irqs"), in: NAPIDeferral.hardIRQsRange)
        let timeout = integer(
            timeoutNode, at: Self.child(path, "gro_flush_timeout"), in: NAPIDeferral.flushTimeoutRange)
        guard let irqs, let timeout else { return false }
        options.napiDeferral = NAPIDeferral(hardIRQs: irqs, flushTimeoutNanoseconds: timeout)
        return true
    }

    /// `"LOW-HIGH"`, both ends in 1...65535, LOW <= HIGH.
    func portRange(_ node: Node, at path: String) -> ClosedRange<UInt16>? {
        guard let text = string(node, at: path) else { return nil }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false).map { part in
            String(part.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
        }
        guard parts.count == 2, let low = Int(parts[0]), let high = Int(parts[1]),
            parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } })
        else {
            error(path, "\"\(text)\" is not a port range (\"LOW-HIGH\", e.g. \"1025-65535\")", at: node)
            return nil
        }
        guard (1...65535).contains(low) && (1...65535).contains(high) else {
            error(path, "ports must be between 1 and 65535, got \"\(text)\"", at: node)
            return nil
        }
        guard low <= high else {
            error(path, "the low port \(low) is above the high port \(high)", at: node)
            return nil
        }
        return UInt16(low)...UInt16(high)
    }

    /// `state: duration` pairs overriding TimeoutTable.dpvsDefaults.
    func readTimeouts(_ node: Node, at path: String) -> TimeoutTable? {
        let names = ConnectionState.allCases.map { ConfigurationVocabulary.name(of: $0) }
        guard let f = fields(of: node, at: path, allowed: names) else { return nil }
        var table = TimeoutTable.dpvsDefaults
        var complete = true
        for state in ConnectionState.allCases {
            let name = ConfigurationVocabulary.name(of: state)
            guard let value = f[name] else { continue }
            if let seconds = duration(value, at: Self.child(path, name)) {
                table[state] = seconds
            } else {
                complete = false
            }
        }
        return complete ? table : nil
    }

    // MARK: - synproxy

    /// `synproxy:` — the SYNPROXY settings shared by every service with `syn_proxy: true` (dpvs's
    /// `synproxy` block vocabulary: `mss`, `wscale`, `sack`, `timestamps`, `rst_on_bad_cookie`,
    /// `ack_storm_threshold`), and Sluice's `answer_in_xdp` (answer SYNs in the XDP program). `mss` is
    /// the IPv4 SYN-ACK bound; IPv6 gets 20 bytes less (its header is 20 bytes longer), never below 1220
    /// (RFC 8200's 1280-byte minimum MTU).
    func readSynProxy(_ node: Node, at path: String) -> SynProxyConfiguration? {
        guard let f = fields(of: node, at: path, allowed: Self.synProxyKeys) else { return nil }
        func at(_ key: String) -> String { Self.child(path, key) }
        var settings = SynProxyConfiguration()
        var complete = true
        func set<T>(_ key: String, _ keyPath: WritableKeyPath<SynProxyConfiguration, T>, _ read: (Node) -> T?) {
            guard let node = f[key] else { return }
            if let value = read(node) {
                settings[keyPath: keyPath] = value
            } else {
                complete = false
            }
        }
        set("mss", \.mss) { integer($0, at: at("mss"), in: 536...9000).map { UInt16($0) } }
        settings.mssIPv6 = max(settings.mss &- 20, 1220)
        set("wscale", \.windowScale) { integer($0, at: at("wscale"), in: 0...14).map { UInt8($0) } }
        set("sack", \.sack) { boolean($0, at: at("sack")) }
        set("timestamps", \.timestamps) { boolean($0, at: at("timestamps")) }
        set("retries", \.retries) {
            integer($0, at: at("retries"), in: 0...SynProxyConfiguration.maximumRetries)
        }
        set("queue", \.queueLength) {
            integer($0, at: at("queue"), in: 1...SynProxyConfiguration.maximumQueueLength)
        }
        set("rst_on_bad_cookie", \.resetOnBadCookie) { boolean($0, at: at("rst_on_bad_cookie")) }
        set("ack_storm_threshold", \.ackStormThreshold) {
            integer($0, at: at("ack_storm_threshold"), in: 0...SynProxyConfiguration.maximumAckStormThreshold)
        }
        set("answer_in_xdp", \.answerInXDP) { boolean($0, at: at("answer_in_xdp")) }
        set("auto_half_open", \.autoHalfOpen) { integer($0, at: at("auto_half_open"), in: Self.autoHalfOpenRange) }
        return complete ? settings : nil
    }

    // MARK: - global

    func readGlobal(_ node: Node, at path: String) -> SluiceConfiguration.GlobalOptions? {
        guard let f = fields(of: node, at: path, allowed: Self.globalKeys) else { return nil }
        var options = SluiceConfiguration.GlobalOptions()
        var complete = true
        if let level = f["log_level"] {
            if let value = choice(level, at: Self.child(path, "log_level"), of: Logger.Level.self) {
                options.logLevel = value
            } else {
                complete = false
            }
        }
        if let file = f["stats_file"] {
            if let value = string(file, at: Self.child(path, "stats_file")), !value.isEmpty {
                options.statsFile = value
            } else {
                if file.scalar?.string.isEmpty == true {
                    error(Self.child(path, "stats_file"), "the path is empty", at: file)
                }
                complete = false
            }
        }
        return complete ? options : nil
    }

    /// `dataplane.cpus`: CPU numbers to pin the workers to, worker i on cpus[i % count].
    func readCPUs(_ node: Node, at path: String) -> [Int]? {
        guard let items = sequence(node, at: path) else { return nil }
        var cpus: [Int] = []
        for (index, item) in items.enumerated() {
            guard let cpu = integer(item, at: Self.element(path, index), in: 0...Self.maximumCPU) else { return nil }
            cpus.append(cpu)
        }
        return cpus
    }

    /// The highest CPU number accepted (Linux's CONFIG_NR_CPUS tops out at 8192).
    static let maximumCPU = 8191
}
