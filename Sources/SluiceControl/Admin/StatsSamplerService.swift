// Feeds the TrafficSampler every two seconds from the data plane (one mailbox question per worker).

import Foundation
import Logging
import ServiceLifecycle

/// Samples per-server traffic and worker progress for rates and metrics.
public struct StatsSamplerService<C: Clock>: Service where C.Duration == Duration {
    let gateway: any AdminGateway
    let sampler: TrafficSampler
    let clock: C

    public init(gateway: any AdminGateway, sampler: TrafficSampler, clock: C) {
        self.gateway = gateway
        self.sampler = sampler
        self.clock = clock
    }

    public func run() async {
        let start = clock.now
        var next = start
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if let traffic = await gateway.serverTraffic() {
                let elapsed = start.duration(to: clock.now)
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                await sampler.record(
                    traffic, heartbeats: gateway.heartbeats(), seconds: seconds,
                    wallClock: Date().timeIntervalSince1970)
            }
            next = next.advanced(by: TrafficSampler.interval)
            let deadline = next
            do {
                try await cancelWhenGracefulShutdown { try await clock.sleep(until: deadline, tolerance: nil) }
            } catch {
                return
            }
        }
    }
}
