// READY/STOPPING/WATCHDOG for systemd (Type=notify, WatchdogSec=). READY=1 is sent by `sluice run`
// once the data plane is up; this service pings the watchdog at half its interval, but only while
// every worker's heartbeat moves: a worker that stops making progress stops the pings, and systemd
// restarts the gateway (the route announcer will also withdraw on it). A stall is logged once per
// episode. STOPPING=1 goes out when the graceful shutdown begins.

import Logging
import ServiceLifecycle
import SluiceXDP

/// Pings systemd's watchdog while the workers make progress.
public struct WatchdogService<C: Clock>: Service where C.Duration == Duration {
    let notifier: SystemdNotifier
    let heartbeats: @Sendable () -> [UInt64]
    let clock: C
    let logger: Logger
    /// Heartbeat checks when systemd asked for no watchdog (the stall is still logged).
    public static var defaultCheckInterval: Duration { .seconds(1) }

    public init(notifier: SystemdNotifier, heartbeats: @escaping @Sendable () -> [UInt64], clock: C, logger: Logger) {
        self.notifier = notifier
        self.heartbeats = heartbeats
        self.clock = clock
        self.logger = logger
    }

    /// The workers whose heartbeat did not move between two samples.
    public func stalledWorkers(previous: [UInt64], current: [UInt64]) -> [Int] {
        zip(previous, current).enumerated().filter { $0.element.0 == $0.element.1 }.map(\.offset)
    }

    public func run() async {
        let interval =
            notifier.watchdogMicroseconds.map { Duration.microseconds(Int64($0 / 2)) } ?? Self.defaultCheckInterval
        var previous = heartbeats()
        var stalled = false
        await withGracefulShutdownHandler {
            var next = clock.now.advanced(by: interval)
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                do { try await clock.sleep(until: next, tolerance: nil) } catch { return }
                next = next.advanced(by: interval)
                let current = heartbeats()
                let stuck = stalledWorkers(previous: previous, current: current)
                previous = current
                if stuck.isEmpty {
                    if stalled { logger.notice("event=worker_progress_resumed") }
                    stalled = false
                    notifier.notify("WATCHDOG=1")
                } else if !stalled {
                    stalled = true
                    logger.error(
                        "event=worker_stalled workers=\(stuck.map(String.init).joined(separator: ",")) watchdog=withheld"
                    )
                }
            }
        } onGracefulShutdown: {
            notifier.notify("STOPPING=1")
        }
    }
}
