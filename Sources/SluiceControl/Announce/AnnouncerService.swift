// Announces the VIPs the decision allows (AnnounceDecision), reconciled every second: the decision is
// made from scratch from the desired state, the drain (API or drain file) and the workers' heartbeats,
// published to the board, and handed whole to the backend (BIRD, a hook, or none). Each change of a
// VIP is one log line with its reason. It is the group's last service, so at shutdown it stops first:
// every VIP is withdrawn, and the data plane keeps forwarding for `shutdownGrace` while the routers
// converge, so that connections in flight do not fail.
//
// With connection sync on, the gateway's LIPs are announced too (and the LIPs of dead peers it adopted,
// docs/sync.md), whatever the VIPs' state: a drain withdraws the VIPs but keeps the LIPs, so replies of
// live connections still arrive. At shutdown the LIPs go only after the grace, with the VIPs long gone.

import Foundation
import Logging
import ServiceLifecycle
import SluiceAdmin
import SluicePacket

/// Reconciles route announcements.
public struct AnnouncerService<C: Clock>: Service where C.Duration == Duration {
    let control: ControlPlane
    let announcer: any RouteAnnouncer
    let board: AnnounceBoard
    let heartbeats: @Sendable () -> [UInt64]
    let beat: @Sendable () -> Void
    let drainFile: String?
    let shutdownGrace: Duration
    let clock: C
    let logger: Logger
    public static var interval: Duration { .seconds(1) }

    public init(
        control: ControlPlane, announcer: any RouteAnnouncer, board: AnnounceBoard,
        heartbeats: @escaping @Sendable () -> [UInt64], beat: @escaping @Sendable () -> Void = {},
        drainFile: String?, shutdownGrace: Duration, clock: C, logger: Logger
    ) {
        self.control = control
        self.announcer = announcer
        self.board = board
        self.heartbeats = heartbeats
        self.beat = beat
        self.drainFile = drainFile
        self.shutdownGrace = shutdownGrace
        self.clock = clock
        self.logger = logger
    }

    public func run() async {
        var detector = StallDetector<C.Instant>(interval: Self.interval)
        var last: [String: VIPAnnouncement] = [:]
        var failing = false
        var next = clock.now
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let now = clock.now
            // The first round, and one after the whole process was stopped, cannot judge the workers.
            let stalled = detector.sample(heartbeats(), at: now).map { !$0.isEmpty } ?? false
            let fileDrain = drainFile.map { FileManager.default.fileExists(atPath: $0) } ?? false
            let drained = await control.drained || fileDrain
            let state = await control.state
            let decisions = AnnounceDecision.decide(
                state, gateway: .init(dataPlaneUp: true, drained: drained, stalled: stalled))
            await publish(
                decisions.map(\.announcement), localRoutes: Self.localRoutes(state), last: &last, failing: &failing)
            beat()
            next = detector.next(after: next, now: now)
            let deadline = next
            do {
                try await cancelWhenGracefulShutdown { try await clock.sleep(until: deadline, tolerance: nil) }
            } catch {
                break
            }
        }
        let withdrawn = await board.decisions.map { VIPAnnouncement(vip: $0.vip, announced: false, reason: "shutdown") }
        let localRoutes = Self.localRoutes(await control.state)
        await publish(withdrawn, localRoutes: localRoutes, last: &last, failing: &failing)
        logger.notice("event=announce_shutdown grace=\(shutdownGrace) every VIP withdrawn before the data plane stops")
        try? await clock.sleep(until: clock.now.advanced(by: shutdownGrace), tolerance: nil)
        if !localRoutes.isEmpty {
            await publish(withdrawn, localRoutes: [], last: &last, failing: &failing)
            logger.notice("event=announce_lips_withdrawn")
        }
    }

    /// The LIPs to announce: with connection sync on, this gateway's and those it adopted; else none.
    static func localRoutes(_ state: DesiredState) -> [IPAddress] {
        guard state.configuration.sync != nil else { return [] }
        let own = state.configuration.localAddressGroups.flatMap(\.addresses)
        var seen = Set<IPAddress>()
        return (own + state.adoptedLocalAddresses).filter { seen.insert($0).inserted }
    }

    /// Publishes a decision, logs each VIP whose state changed, and applies it to the backend.
    private func publish(
        _ decisions: [VIPAnnouncement], localRoutes: [IPAddress], last: inout [String: VIPAnnouncement],
        failing: inout Bool
    ) async {
        await board.publish(decisions)
        for d in decisions where last[d.vip]?.announced != d.announced || last[d.vip] == nil {
            let line = "event=\(d.announced ? "vip_announced" : "vip_withdrawn") vip=\(d.vip) reason=\"\(d.reason)\""
            if d.announced || last[d.vip] != nil { logger.notice("\(line)") } else { logger.info("\(line)") }
        }
        for d in decisions { last[d.vip] = d }
        let vips = decisions.filter(\.announced).compactMap { IPAddress($0.vip) }
        do {
            try await announcer.apply(vips + localRoutes)
            if failing { logger.notice("event=announce_recovered") }
            failing = false
        } catch {
            if !failing { logger.error("event=announce_failed error=\"\(error)\"") }
            failing = true
        }
    }
}
