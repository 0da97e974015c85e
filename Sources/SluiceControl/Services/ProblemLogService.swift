// Samples the data plane's problem counters every second and logs each episode once (EpisodeTracker):
// `event=problem_started kind=drop_neighbour_unresolved count=12` and, after ten quiet seconds,
// `event=problem_ended kind=... count=4711`. The flood defences are logged the same way when they
// engage and disengage: `event=defence_engaged kind=syn_proxy_auto_cookies` (SYN cookies for a service
// without syn_proxy), `kind=drop_udp_flow_limit` (new UDP flows refused by the table's or a virtual
// server's budget) and `kind=drop_udp_source_flow_limit` (by a client address's budget). Some kinds
// carry a hint: `drop_unserved_queue` is how a change of the interfaces' channels at runtime shows
// (frames arriving on an RX queue no worker serves), and the line says how to fix it.

import Logging
import ServiceLifecycle
import SluiceCore
import SluicePacket

/// Logs running data-plane problems once per episode.
public struct ProblemLogService<C: Clock>: Service where C.Duration == Duration {
    /// The drop reasons that are operating problems rather than hostile or stray traffic.
    public static var watched: [DropReason] {
        [
            .neighbourUnresolved, .localPortsExhausted, .connectionTableFull, .noRoute, .txRingFull, .noRealServer,
            .handOffFull, .wrongWorker, .unservedQueue,
        ]
    }
    /// What to do about a problem, by its kind.
    public static var hints: [String: String] {
        [
            "drop_unserved_queue":
                "frames arrive on RX queues without a worker (channels changed since start?): check `ethtool -l IF`, "
                + "then `ethtool -L IF combined N` back to the workers' count or restart Sluice to serve every queue",
            "drop_hand_off_full": "a worker cannot keep up with the frames others hand it",
        ]
    }
    /// The flood defences, by the counter that moves while each is at work.
    public static var defences: [(name: String, value: (Counters) -> UInt64)] {
        [
            ("syn_proxy_auto_cookies", { $0[.synProxyAutoCookies] }),
            ("drop_udp_flow_limit", { $0[.udpFlowLimit] }),
            ("drop_udp_source_flow_limit", { $0[.udpSourceFlowLimit] }),
        ]
    }
    public static var interval: Duration { .seconds(1) }

    let counters: @Sendable () -> Counters
    let clock: C
    let logger: Logger

    public init(counters: @escaping @Sendable () -> Counters, clock: C, logger: Logger) {
        self.counters = counters
        self.clock = clock
        self.logger = logger
    }

    public func run() async {
        var tracker = EpisodeTracker()
        var defenceTracker = EpisodeTracker()
        var next = clock.now
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let current = counters()
            let values = Self.watched.map { ("drop_" + Counters.snakeCase("\($0)"), current[$0]) }
            log(
                defenceTracker.sample(Self.defences.map { ($0.name, $0.value(current)) }), "defence_engaged",
                "defence_disengaged")
            log(tracker.sample(values), "problem_started", "problem_ended")
            next = next.advanced(by: Self.interval)
            let deadline = next
            do {
                try await cancelWhenGracefulShutdown { try await clock.sleep(until: deadline, tolerance: nil) }
            } catch {
                return
            }
        }
    }

    /// One line per episode that started (a warning) or ended (a notice).
    func log(_ events: [EpisodeTracker.Event], _ started: String, _ ended: String) {
        for event in events {
            switch event {
            case .started(let name, let count):
                let hint = Self.hints[name].map { " hint=\"\($0)\"" } ?? ""
                logger.warning("event=\(started) kind=\(name) count=\(count)\(hint)")
            case .ended(let name, let count): logger.notice("event=\(ended) kind=\(name) count=\(count)")
            }
        }
    }
}
