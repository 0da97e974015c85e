// Builds the admin API's view of the virtual servers from the desired state (file, health, runtime
// overrides), the data plane's per-server counters and the sampler's rates. Pure: tests feed it
// fixtures.

import SluiceAdmin
import SluiceCore

/// The admin API's `VirtualServerStatus` values.
public enum StatusBuilder {
    public static func services(
        _ state: DesiredState, traffic: [ServerTraffic], rate: (String) -> TrafficRate
    ) -> [VirtualServerStatus] {
        var byKey: [String: ServerTraffic] = [:]
        for t in traffic {
            byKey[TrafficSampler.key(service: t.service, address: t.address.description, port: t.port)] = t
        }
        let running = state.dataplaneConfiguration()
        return state.configuration.virtualServers.enumerated().map { index, vs in
            var servers: [RealServerStatus] = []
            for (position, rs) in vs.realServers.enumerated() {
                let id = RealServerID(service: vs.name, address: rs.address, port: rs.port)
                let effective = running.services[index].realServers[position]
                let check = vs.healthCheck(for: rs)
                let health = state.health[id]
                let checkState = CheckState(
                    state: health.map { $0.isUp ? "up" : "down" } ?? "static", type: check.kind.rawValue,
                    status: health?.last?.status.rawValue ?? CheckStatus.unknown.rawValue,
                    durationMilliseconds: health?.last?.durationMilliseconds,
                    detail: health?.last.flatMap { $0.detail.isEmpty ? nil : $0.detail }, checks: health?.checks ?? 0,
                    failures: health?.failures ?? 0)
                servers.append(
                    server(
                        vs: vs, address: rs.address.description, port: rs.port, configuredWeight: rs.weight,
                        weight: effective.schedulingWeight, adminState: state.override(id).adminState.rawValue,
                        health: checkState, sorry: false, byKey: byKey, rate: rate))
            }
            if running.services[index].realServers.count > vs.realServers.count, let sorry = vs.sorryServer {
                servers.append(
                    server(
                        vs: vs, address: sorry.address.description, port: sorry.port, configuredWeight: 1, weight: 1,
                        adminState: AdminState.ready.rawValue,
                        health: CheckState(state: "static", type: "none", status: CheckStatus.unknown.rawValue),
                        sorry: true, byKey: byKey, rate: rate))
            }
            var stats = TrafficStats()
            var total = TrafficRate()
            for s in servers {
                stats.add(s.stats)
                total.connectionsPerSecond &+= s.rate.connectionsPerSecond
                total.inPacketsPerSecond &+= s.rate.inPacketsPerSecond
                total.outPacketsPerSecond &+= s.rate.outPacketsPerSecond
                total.inBytesPerSecond &+= s.rate.inBytesPerSecond
                total.outBytesPerSecond &+= s.rate.outBytesPerSecond
            }
            var flags: [String] = []
            if vs.synProxy { flags.append("syn_proxy") }
            if vs.clientAddress != .none { flags.append(vs.clientAddress.rawValue) }
            if vs.inhibitOnFailure { flags.append("inhibit_on_failure") }
            if vs.scheduler == .mh && vs.mhFallback { flags.append("mh_fallback") }
            if vs.scheduler == .mh && vs.mhPort { flags.append("mh_port") }
            if vs.persistenceTimeout > 0 && vs.expireQuiescentTemplate { flags.append("expire_quiescent_template") }
            var status = VirtualServerStatus(
                name: vs.name, protocol: ConfigurationVocabulary.name(of: vs.transport), vip: vs.vip.description,
                port: vs.port, scheduler: vs.scheduler.rawValue, flags: flags, quorum: vs.quorum,
                liveServers: state.liveCount(of: vs).live, servers: servers, stats: stats, rate: total)
            if vs.persistenceTimeout > 0 {
                status.persistenceTimeout = vs.persistenceTimeout
                status.persistenceNetmask = Int(vs.persistenceNetmask ?? (vs.vip.isV6 ? 128 : 32))
            }
            return status
        }
    }

    static func server(
        vs: VirtualServer, address: String, port: UInt16, configuredWeight: UInt32, weight: UInt32,
        adminState: String, health: CheckState, sorry: Bool, byKey: [String: ServerTraffic],
        rate: (String) -> TrafficRate
    ) -> RealServerStatus {
        let key = TrafficSampler.key(service: vs.name, address: address, port: port)
        let t = byKey[key]
        return RealServerStatus(
            address: address, port: port, configuredWeight: configuredWeight, weight: weight, adminState: adminState,
            health: health, isSorryServer: sorry, activeConnections: t?.active ?? 0,
            inactiveConnections: t?.inactive ?? 0,
            stats: TrafficStats(
                connections: t?.connections ?? 0, inPackets: t?.inPackets ?? 0, inBytes: t?.inBytes ?? 0,
                outPackets: t?.outPackets ?? 0, outBytes: t?.outBytes ?? 0),
            rate: rate(key))
    }
}
