// The virtual services of one worker, indexed for the two questions the hot path asks:
// "is this destination a VIP:port/protocol?" and "is this destination one of our local addresses?".
//
// Built from a DataplaneConfiguration off the hot path (it allocates); lookups do not allocate.
// Services that share the same list of local addresses share one LocalAddressPool, because a
// local port is unique per LIP, whatever service uses it (docs/protocol.md §4).

import SluicePacket

/// Identifies a virtual service: VIP, port, transport protocol.
public struct ServiceKey: Hashable, Sendable {
    public var address: IPAddress
    public var port: UInt16
    public var transport: UInt8

    @inlinable
    public init(address: IPAddress, port: UInt16, transport: UInt8) {
        self.address = address
        self.port = port
        self.transport = transport
    }
}

/// One virtual service's run-time state inside a worker.
public struct ServiceState {
    public var configuration: VirtualServiceConfiguration
    public var scheduler: Scheduler
    /// Index of the LocalAddressPool this service allocates from.
    public var poolIndex: Int
    /// Established (TCP) / normal (UDP) timeout in milliseconds after overrides.
    public var establishedTimeout: UInt64
}

/// The services and local-address pools of one worker.
public struct ServiceTable {
    public var services: [ServiceState]
    public var pools: [LocalAddressPool]
    /// Per service, flat copies of what the per-packet path reads, so that it never touches a
    /// `ServiceState` (whose configuration holds strings and arrays: reading through it retains them).
    @usableFromInline var establishedTimeouts: [UInt64]
    @usableFromInline var realServerCounts: [Int]
    /// Per service, `persistence_timeout` in seconds (0: none) and `persistence_netmask`.
    @usableFromInline var persistenceTimeouts: [UInt32]
    @usableFromInline var persistenceNetmasks: [UInt8]
    /// Per service, its real servers' persistence tags (PersistenceTemplates.tag).
    @usableFromInline var serverTags: [[UInt32]]
    /// Per service, `syn_proxy: auto` (and not on).
    @usableFromInline var synProxyAuto: [Bool]
    /// Per service, its VIP, port and protocol.
    @usableFromInline var keys: [ServiceKey]
    /// True when any service has persistence.
    public let hasPersistence: Bool
    /// Per service, the slot of its first real server in the data plane's per-server counters.
    @usableFromInline var trafficBase: [Int]
    /// Real servers over all services (slots in the per-server counters).
    public var totalRealServers: Int
    @usableFromInline var byKey: [ServiceKey: Int]
    /// Local address → pool index, for recognising replies addressed to a LIP.
    @usableFromInline var localAddresses: [IPAddress: Int]

    /// Builds the table. `previous` lets unchanged services keep scheduler counters and pools keep
    /// their allocated ports across a reload.
    public init(
        configuration: DataplaneConfiguration, worker: Int, workerCount: Int, previous: ServiceTable? = nil
    ) {
        var pools: [LocalAddressPool] = []
        var poolByAddresses: [[IPAddress]: Int] = [:]
        var localAddresses: [IPAddress: Int] = [:]
        var services: [ServiceState] = []
        var byKey: [ServiceKey: Int] = [:]
        for vs in configuration.services {
            let lips = vs.localAddresses.sorted()
            let poolIndex: Int
            if let existing = poolByAddresses[lips] {
                poolIndex = existing
            } else {
                poolIndex = pools.count
                if let old = previous, let oldIndex = old.poolIndex(for: lips) {
                    pools.append(old.pools[oldIndex])
                } else {
                    pools.append(
                        LocalAddressPool(
                            addresses: lips, range: configuration.localPortRange, worker: worker,
                            workerCount: workerCount))
                }
                poolByAddresses[lips] = poolIndex
                for lip in lips where localAddresses[lip] == nil { localAddresses[lip] = poolIndex }
            }
            let options = SchedulerOptions(
                seed: configuration.schedulerSeed, maglevTableSize: configuration.maglevTableSize,
                mhFallback: vs.mhFallback, mhPort: vs.mhPort)
            var scheduler: Scheduler
            if let old = previous,
                let oldService = old.services.first(where: {
                    $0.configuration.name == vs.name
                        && $0.configuration.realServers.map(\.address)
                            == vs.realServers.map(\.address)
                        && $0.configuration.scheduler == vs.scheduler
                        && $0.scheduler.options == options
                })
            {
                scheduler = oldService.scheduler
                scheduler.update(servers: vs.realServers, previousIndex: vs.realServers.indices.map { $0 })
            } else {
                scheduler = Scheduler(kind: vs.scheduler, servers: vs.realServers, options: options)
            }
            // The connection counts are this worker's, so each worker takes its share of a threshold.
            let share = { (t: UInt32) -> UInt32 in t == 0 ? 0 : (t + UInt32(workerCount) - 1) / UInt32(workerCount) }
            scheduler.setThresholds(
                upper: vs.realServers.map { share($0.upperThreshold) },
                lower: vs.realServers.map { share($0.lowerThreshold) })
            let timeoutSeconds =
                vs.establishTimeout
                ?? configuration.timeouts[vs.transport == .tcp ? .established : .udpNormal]
            let key = ServiceKey(address: vs.vip, port: vs.port, transport: vs.transport.rawValue)
            byKey[key] = services.count
            services.append(
                ServiceState(
                    configuration: vs, scheduler: scheduler, poolIndex: poolIndex,
                    establishedTimeout: UInt64(timeoutSeconds) * 1000))
        }
        self.services = services
        self.pools = pools
        self.establishedTimeouts = services.map(\.establishedTimeout)
        self.realServerCounts = services.map(\.configuration.realServers.count)
        self.persistenceTimeouts = services.map(\.configuration.persistenceTimeout)
        self.persistenceNetmasks = services.map(\.configuration.persistenceNetmask)
        self.serverTags = services.map {
            $0.configuration.realServers.map { PersistenceTemplates.tag(address: $0.address, port: $0.port) }
        }
        self.keys = services.map {
            ServiceKey(
                address: $0.configuration.vip, port: $0.configuration.port,
                transport: $0.configuration.transport.rawValue)
        }
        self.hasPersistence = services.contains { $0.configuration.persistenceTimeout > 0 }
        self.synProxyAuto = services.map {
            $0.configuration.transport == .tcp && !$0.configuration.synProxy && $0.configuration.synProxyAuto
        }
        var base = 0
        var bases: [Int] = []
        for count in realServerCounts {
            bases.append(base)
            base += count
        }
        self.trafficBase = bases
        self.totalRealServers = base
        self.byKey = byKey
        self.localAddresses = localAddresses
    }

    func poolIndex(for lips: [IPAddress]) -> Int? {
        services.first { $0.configuration.localAddresses.sorted() == lips }?.poolIndex
    }

    /// The service for a destination, if any.
    @inlinable
    public func service(address: IPAddress, port: UInt16, transport: UInt8) -> Int? {
        byKey[ServiceKey(address: address, port: port, transport: transport)]
    }

    /// True when `address` is one of the local addresses (LIPs).
    @inlinable
    public func isLocalAddress(_ address: IPAddress) -> Bool {
        localAddresses[address] != nil
    }

    /// Pool index of a local address.
    @inlinable
    public func pool(ofLocalAddress address: IPAddress) -> Int? {
        localAddresses[address]
    }

    /// True when some service listens on `address` (any port): the address is a VIP.
    public func isVirtualAddress(_ address: IPAddress) -> Bool {
        services.contains { $0.configuration.vip == address }
    }
}
