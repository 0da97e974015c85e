// The desired state: the file's configuration, combined with what the health checks found and what
// operators changed at runtime. It is a plain value, and `dataplaneConfiguration()` is the one place
// where it becomes what the workers run, so every source of change (file, checks, API) reaches them
// the same way. Per real server:
// - health down without `inhibit_on_failure`: `isUp` false (no new connections, its connections are
//   expired); with `inhibit_on_failure`: weight 0, connections left to finish (keepalived);
// - admin `drain` or `maint`: weight 0; `maint` also does not count as live;
// - otherwise the runtime weight when set, else the file's.
// A virtual server with a `sorry_server` and no live server gets the sorry server (weight 1) as
// its only schedulable server; its connections stay where they are when real servers come back.

import SluiceCore
import SluicePacket

/// File configuration ⊕ health results ⊕ runtime overrides.
public struct DesiredState: Sendable {
    public var configuration: SluiceConfiguration
    /// Health of every real server whose virtual server has active checks.
    public var health: [RealServerID: ServerHealth]
    public var overrides: [RealServerID: RuntimeOverride]
    /// LIPs of dead peers this gateway answers for (connection sync, docs/sync.md).
    public var adoptedLocalAddresses: [IPAddress] = []

    /// A fresh state: servers under checks start down, until they prove themselves.
    public init(configuration: SluiceConfiguration) {
        self.configuration = configuration
        self.health = [:]
        self.overrides = [:]
        adoptHealth(from: [:])
    }

    /// Every real server of the file with its id, service and effective check.
    public var realServers: [(id: RealServerID, service: VirtualServer, server: RealServerConfiguration)] {
        configuration.virtualServers.flatMap { vs in
            vs.realServers.map { rs in
                (RealServerID(service: vs.name, address: rs.address, port: rs.port), vs, rs)
            }
        }
    }

    /// Keeps the health of servers that still exist with the same check, starts new ones down.
    mutating func adoptHealth(from previous: [RealServerID: (ServerHealth, HealthCheck)]) {
        var fresh: [RealServerID: ServerHealth] = [:]
        for (id, vs, rs) in realServers {
            let check = vs.healthCheck(for: rs)
            guard check.isActive else { continue }
            if let (old, oldCheck) = previous[id], oldCheck == check {
                fresh[id] = old
            } else {
                fresh[id] = ServerHealth(rise: check.rise, fall: check.fall)
            }
        }
        health = fresh
    }

    /// Health and check of every checked server, for `adoptHealth` after a reload.
    var healthWithChecks: [RealServerID: (ServerHealth, HealthCheck)] {
        var out: [RealServerID: (ServerHealth, HealthCheck)] = [:]
        for (id, vs, rs) in realServers {
            if let h = health[id] { out[id] = (h, vs.healthCheck(for: rs)) }
        }
        return out
    }

    /// What the checks say: true for servers without checks.
    public func isHealthy(_ id: RealServerID) -> Bool { health[id]?.isUp ?? true }

    /// The runtime override of a server (`ready`, file weight when none).
    public func override(_ id: RealServerID) -> RuntimeOverride { overrides[id] ?? RuntimeOverride() }

    /// The weight the scheduler gets and whether connections may stay.
    public func effective(_ id: RealServerID, service: VirtualServer, server: RealServerConfiguration)
        -> RealServerConfiguration
    {
        var out = server
        let o = override(id)
        out.weight = o.weight ?? server.weight
        if o.adminState != .ready { out.weight = 0 }
        if !isHealthy(id) {
            if service.inhibitOnFailure {
                out.weight = 0
            } else {
                out.isUp = false
            }
        }
        return out
    }

    /// True when a server takes new connections: healthy, ready (or drained only by weight), weight > 0.
    public func isLive(_ id: RealServerID, service: VirtualServer, server: RealServerConfiguration) -> Bool {
        let e = effective(id, service: service, server: server)
        return e.isUp && e.weight > 0 && override(id).adminState == .ready
    }

    /// Live and total real servers of a virtual server.
    public func liveCount(of service: VirtualServer) -> (live: Int, total: Int) {
        let live = service.realServers.filter { rs in
            isLive(
                RealServerID(service: service.name, address: rs.address, port: rs.port), service: service, server: rs)
        }.count
        return (live, service.realServers.count)
    }

    /// True when a virtual server has fewer live servers than its quorum.
    public func isBelowQuorum(_ service: VirtualServer) -> Bool {
        liveCount(of: service).live < service.quorum
    }

    /// The configuration the workers run.
    public func dataplaneConfiguration() -> DataplaneConfiguration {
        var result = configuration.dataplaneConfiguration()
        result.adoptedLocalAddresses = adoptedLocalAddresses
        for (index, vs) in configuration.virtualServers.enumerated() {
            var servers = vs.realServers.map { rs in
                effective(RealServerID(service: vs.name, address: rs.address, port: rs.port), service: vs, server: rs)
            }
            if let sorry = vs.sorryServer, liveCount(of: vs).live == 0 {
                servers.append(RealServerConfiguration(address: sorry.address, port: sorry.port, weight: 1))
            }
            result.services[index].realServers = servers
        }
        return result
    }
}
