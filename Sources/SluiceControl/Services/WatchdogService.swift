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
    let notify: @Sendable (String) -> Void
    let watchdogMicroseconds: UInt64?
    let heartbeats: @Sendable () -> [UInt64]
    let clock: C
    let logger: Logger
    /// Heartbeat checks when systemd asked for no watchdog (the stall is still logged).
    public static var defaultCheckInterval: Duration { .seconds(1) }

    public init(notifier: SystemdNotifier, heartbeats: @escaping @Sendable () -> [UInt64], clock: C, logger: Logger) {
        self.init(
            watchdogMicroseconds: notifier.watchdogMicroseconds, notify: { notifier.notify($0) },
            heartbeats: heartbeats, clock: clock, logger: logger)
    }

    /// With the messages going to `notify` instead of systemd's socket (tests).
    public init(
        watchdogMicroseconds: UInt64?, notify: @escaping @Sendable (String) -> Void,
        heartbeats: @escaping @Sendable () -> [UInt64], clock: C, logger: Logger
    ) {
        self.watchdogMicroseconds = watchdogMicroseconds
        self.notify = notify
        self.heartbeats = heartbeats
        self.clock = clock
        self.logger = logger
    }

    public func run() async {
        let interval =
            watchdogMicroseconds.map { Duration.microseconds(Int64($0 / 2)) } ?? Self.defaultCheckInterval
        var detector = StallDetector<C.Instant>(interval: interval)
        _ = detector.sample(heartbeats(), at: clock.now)
        var stalled = false
        await withGracefulShutdownHandler {
            var next = clock.now.advanced(by: interval)
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                do { try await clock.sleep(until: next, tolerance: nil) } catch { return }
                let now = clock.now
                next = detector.next(after: next, now: now)
                // After a pause of the whole process nothing is judged (and no ping): the next round is.
                guard let stuck = detector.sample(heartbeats(), at: now) else { continue }
                if stuck.isEmpty {
                    if stalled { logger.notice("event=worker_progress_resumed") }
                    stalled = false
                    notify("WATCHDOG=1")
                } else if !stalled {
                    stalled = true
                    logger.error(
                        "event=worker_stalled workers=\(stuck.map(String.init).joined(separator: ",")) watchdog=withheld"
                    )
                }
            }
        } onGracefulShutdown: {
            notify("STOPPING=1")
        }
    }
}
