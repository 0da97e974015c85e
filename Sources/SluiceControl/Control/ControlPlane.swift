// The owner of the desired state and the one path from it to the workers. Every change (a reload, a
// check result that flips a server, a runtime weight or admin state) goes through `commit`, which
// builds the data-plane configuration from the whole desired state and publishes it, so no two
// sources can disagree about what the workers run. An actor: changes are serialised, and nothing
// here runs on a worker thread.

import Foundation
import Logging
import SluiceCore
import SluicePacket

/// Desired state and its publication to the data plane.
public actor ControlPlane {
    public private(set) var state: DesiredState
    private let sink: any DataPlaneSink
    private var logger: Logger
    /// Yields whenever the set of checked servers may have changed (a reload).
    public nonisolated let targetChanges: AsyncStream<Void>
    private let targetContinuation: AsyncStream<Void>.Continuation
    /// Virtual servers below quorum at the last commit, to log each crossing once.
    private var belowQuorum: Set<String> = []
    /// Reloads applied and refused, and when the last one succeeded (for metrics and the API).
    public private(set) var reloads = (applied: 0, refused: 0)
    public private(set) var lastReloadSucceeded = true
    /// When the configuration was last loaded successfully (seconds since 1970).
    public private(set) var lastReloadSuccessTime = Date().timeIntervalSince1970

    /// The operator's drain of the whole gateway (every VIP withdrawn), set through the API.
    public private(set) var drained = false

    /// Drains the gateway or ends the drain; logged.
    public func setDrain(_ on: Bool) {
        guard on != drained else { return }
        drained = on
        logger.notice("event=\(on ? "drain_on" : "drain_off") source=api")
    }

    /// Sets the LIPs of dead peers this gateway answers for (the sync service); published at once.
    public func setAdoptedLocalAddresses(_ addresses: [IPAddress]) {
        let sorted = addresses.sorted()
        guard sorted != state.adoptedLocalAddresses else { return }
        state.adoptedLocalAddresses = sorted
        commit()
    }

    /// The last reload's outcome and the time of the last successful load.
    public var reloadStatus: (succeeded: Bool, time: Double) { (lastReloadSucceeded, lastReloadSuccessTime) }

    public init(configuration: SluiceConfiguration, sink: any DataPlaneSink, logger: Logger) {
        self.state = DesiredState(configuration: configuration)
        self.sink = sink
        self.logger = logger
        (targetChanges, targetContinuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Publishes the current desired state (at start, before the first check) and logs the virtual
    /// servers that start below their quorum (servers under checks start down).
    public func start() {
        commit()
    }

    /// The servers the health checker must check, with their checks.
    public func checkTargets() -> [RealServerID: CheckTarget] {
        var out: [RealServerID: CheckTarget] = [:]
        for (id, vs, rs) in state.realServers {
            let check = vs.healthCheck(for: rs)
            guard check.isActive else { continue }
            out[id] = CheckTarget(service: vs.name, address: rs.address, port: check.port ?? rs.port, check: check)
        }
        return out
    }

    /// Records a check result; a transition is logged and published.
    public func record(_ id: RealServerID, _ result: CheckResult) {
        guard var health = state.health[id] else { return }
        let transition = health.record(result)
        state.health[id] = health
        guard let transition else { return }
        let vs = state.configuration.virtualServers.first { $0.name == id.service }
        let live = vs.map { state.liveCount(of: $0) } ?? (0, 0)
        let kind =
            vs.flatMap { v in v.realServers.first { $0.address == id.address && $0.port == id.port } }
            .map { vs!.healthCheck(for: $0).kind.rawValue } ?? "none"
        let line =
            "event=\(transition == .up ? "rs_up" : "rs_down") vs=\(id.service) vip=\(vipText(vs)) rs=\(id.endpoint)"
            + " check=\(kind) status=\(result.status.rawValue) duration_ms=\(result.durationMilliseconds)"
            + " live=\(live.0)/\(live.1)" + (result.detail.isEmpty ? "" : " detail=\"\(result.detail)\"")
        if transition == .up { logger.notice("\(line)") } else { logger.warning("\(line)") }
        commit()
    }

    /// Sets a runtime weight and/or admin state of a server of the file; false when there is none.
    @discardableResult
    public func setOverride(_ id: RealServerID, weight: UInt32?, adminState: AdminState?) -> Bool {
        guard state.realServers.contains(where: { $0.id == id }) else { return false }
        var o = state.override(id)
        if let weight { o.weight = weight }
        if let adminState { o.adminState = adminState }
        state.overrides[id] = o
        let vs = state.configuration.virtualServers.first { $0.name == id.service }
        logger.notice(
            "event=rs_admin vs=\(id.service) vip=\(vipText(vs)) rs=\(id.endpoint) state=\(o.adminState.rawValue) weight=\(o.weight.map(String.init) ?? "file")"
        )
        commit()
        return true
    }

    /// Applies a new configuration by difference; refuses changes that need a restart. Health of
    /// servers whose check is unchanged, and runtime overrides of servers that still exist, carry over.
    @discardableResult
    public func reload(to configuration: SluiceConfiguration) -> ReloadDiff {
        let diff = ReloadDiff(from: state.configuration, to: configuration)
        if diff.isRefused {
            reloads.refused += 1
            lastReloadSucceeded = false
            logger.error(
                "event=reload_refused reason=restart_required keys=\(diff.restartRequired.joined(separator: ",")) running configuration kept"
            )
            return diff
        }
        let previousHealth = state.healthWithChecks
        var next = DesiredState(configuration: configuration)
        next.adoptHealth(from: previousHealth)
        let ids = Set(next.realServers.map(\.id))
        next.overrides = state.overrides.filter { ids.contains($0.key) }
        next.adoptedLocalAddresses = state.adoptedLocalAddresses
        state = next
        LogLevelControl.current = configuration.global.logLevel
        for line in diff.changes { logger.notice("\(line)") }
        reloads.applied += 1
        lastReloadSucceeded = true
        lastReloadSuccessTime = Date().timeIntervalSince1970
        logger.notice(
            "event=reload_applied virtual_servers=\(configuration.virtualServers.count) changes=\(diff.changes.count)")
        commit()
        targetContinuation.yield()
        return diff
    }

    /// A reload that could not even be read.
    public func reloadFailed() {
        reloads.refused += 1
        lastReloadSucceeded = false
    }

    /// Builds and publishes the data-plane configuration; logs quorum and sorry-server crossings.
    private func commit() {
        for vs in state.configuration.virtualServers {
            let below = state.isBelowQuorum(vs)
            let live = state.liveCount(of: vs)
            if below && !belowQuorum.contains(vs.name) {
                belowQuorum.insert(vs.name)
                let sorry = vs.sorryServer.map {
                    " sorry_server=\(ConfigurationVocabulary.endpoint($0.address, $0.port))"
                }
                let line =
                    "event=vs_quorum_lost vs=\(vs.name) vip=\(vipText(vs)) live=\(live.live)/\(live.total) quorum=\(vs.quorum)"
                    + (sorry ?? "")
                logger.warning("\(line)")
            } else if !below && belowQuorum.contains(vs.name) {
                belowQuorum.remove(vs.name)
                logger.notice(
                    "event=vs_quorum_gained vs=\(vs.name) vip=\(vipText(vs)) live=\(live.live)/\(live.total) quorum=\(vs.quorum)"
                )
            }
        }
        belowQuorum.formIntersection(state.configuration.virtualServers.map(\.name))
        do {
            try sink.publish(state.dataplaneConfiguration())
        } catch {
            logger.error("event=publish_failed error=\"\(error)\"")
        }
    }

    private func vipText(_ vs: VirtualServer?) -> String {
        guard let vs else { return "-" }
        return "\(ConfigurationVocabulary.name(of: vs.transport))/\(ConfigurationVocabulary.endpoint(vs.vip, vs.port))"
    }
}
