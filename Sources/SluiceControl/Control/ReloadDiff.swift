// What a reload changes, computed on the two typed configurations: settings that only a restart
// can apply (they size or bind the data plane), and one line per added, removed or changed virtual
// server and real server, in the words an operator greps for.

import SluiceCore

/// The difference between the running configuration and a new one.
public struct ReloadDiff: Sendable {
    /// Key paths whose change needs a restart; a reload with any is refused.
    public var restartRequired: [String] = []
    /// One logfmt line per change.
    public var changes: [String] = []

    public init(from old: SluiceConfiguration, to new: SluiceConfiguration) {
        if old.interfaces != new.interfaces { restartRequired.append("interfaces") }
        if old.admin != new.admin { restartRequired.append("admin.socket") }
        if old.metrics != new.metrics { restartRequired.append("metrics.listen") }
        if old.announce != new.announce { restartRequired.append("announce") }
        if old.synProxyKeyFile != new.synProxyKeyFile { restartRequired.append("synproxy.key_file") }
        if old.sync != new.sync { restartRequired.append("sync") }
        let a = old.dataplane
        let b = new.dataplane
        let sized: [(String, Bool)] = [
            // The running count may have been derived from the RX queues (ReceiveQueues.resolvingWorkers).
            (
                "dataplane.workers",
                a.workersConfigured != b.workersConfigured || (b.workersConfigured && a.workers != b.workers)
            ),
            ("dataplane.queues", a.queues != b.queues),
            ("dataplane.frame_size", a.frameSize != b.frameSize), ("dataplane.frames", a.frames != b.frames),
            ("dataplane.connection_capacity", a.connectionCapacity != b.connectionCapacity),
            ("dataplane.local_port_range", a.localPortRange != b.localPortRange),
            ("dataplane.cpus", a.cpus != b.cpus),
            ("dataplane.ntuple_rules", a.ntupleRules != b.ntupleRules),
            ("dataplane.napi_defer_hard_irqs", a.napiDeferral?.hardIRQs != b.napiDeferral?.hardIRQs),
            (
                "dataplane.gro_flush_timeout",
                a.napiDeferral?.flushTimeoutNanoseconds != b.napiDeferral?.flushTimeoutNanoseconds
            ),
        ]
        restartRequired += sized.filter(\.1).map(\.0)

        let oldByName = Dictionary(old.virtualServers.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let newByName = Dictionary(new.virtualServers.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for vs in new.virtualServers where oldByName[vs.name] == nil {
            changes.append("event=vs_added vs=\(vs.name) vip=\(vs.endpoint.replacingOccurrences(of: " ", with: "/"))")
        }
        for vs in old.virtualServers where newByName[vs.name] == nil {
            changes.append(
                "event=vs_removed vs=\(vs.name) vip=\(vs.endpoint.replacingOccurrences(of: " ", with: "/"))"
                    + " connections=drained")
        }
        for vs in new.virtualServers {
            guard let before = oldByName[vs.name] else { continue }
            let vip = vs.endpoint.replacingOccurrences(of: " ", with: "/")
            var settings = before
            settings.realServers = vs.realServers
            settings.healthCheckOverrides = vs.healthCheckOverrides
            if settings != vs { changes.append("event=vs_changed vs=\(vs.name) vip=\(vip)") }
            let oldServers = Dictionary(
                before.realServers.map { (VirtualServer.Endpoint(address: $0.address, port: $0.port), $0) },
                uniquingKeysWith: { a, _ in a })
            let newServers = Dictionary(
                vs.realServers.map { (VirtualServer.Endpoint(address: $0.address, port: $0.port), $0) },
                uniquingKeysWith: { a, _ in a })
            for rs in vs.realServers {
                let key = VirtualServer.Endpoint(address: rs.address, port: rs.port)
                let rsText = ConfigurationVocabulary.endpoint(rs.address, rs.port)
                if let previous = oldServers[key] {
                    if previous.weight != rs.weight {
                        changes.append(
                            "event=rs_changed vs=\(vs.name) vip=\(vip) rs=\(rsText) weight=\(previous.weight)->\(rs.weight)"
                        )
                    }
                    if before.healthCheck(for: previous) != vs.healthCheck(for: rs) {
                        changes.append("event=rs_check_changed vs=\(vs.name) vip=\(vip) rs=\(rsText)")
                    }
                } else {
                    changes.append("event=rs_added vs=\(vs.name) vip=\(vip) rs=\(rsText) weight=\(rs.weight)")
                }
            }
            for rs in before.realServers
            where newServers[VirtualServer.Endpoint(address: rs.address, port: rs.port)] == nil {
                let rsText = ConfigurationVocabulary.endpoint(rs.address, rs.port)
                changes.append("event=rs_removed vs=\(vs.name) vip=\(vip) rs=\(rsText) connections=drained")
            }
        }
        if old.global.logLevel != new.global.logLevel {
            changes.append("event=setting_changed key=global.log_level value=\(new.global.logLevel.rawValue)")
        }
        if old.global.statsFile != new.global.statsFile {
            changes.append("event=setting_changed key=global.stats_file value=\(new.global.statsFile ?? "none")")
        }
        if old.synProxy != new.synProxy { changes.append("event=setting_changed key=synproxy") }
        if old.dataplane.timeouts != new.dataplane.timeouts {
            changes.append("event=setting_changed key=dataplane.timeouts")
        }
    }

    public var isRefused: Bool { !restartRequired.isEmpty }
}
