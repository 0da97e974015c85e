// Rates for `--rate` and the last time each worker made progress, from samples taken every
// `interval` (IPVS's estimator also works on 2-second samples). The sampler keeps the last sample
// and the rates between the last two; it asks the data plane nothing itself.

import SluiceAdmin
import SluiceCore

/// The last per-server counters, rates between the last two samples, and worker progress times.
public actor TrafficSampler {
    public static let interval: Duration = .seconds(2)

    private var last: (seconds: Double, traffic: [String: TrafficStats])?
    public private(set) var rates: [String: TrafficRate] = [:]
    private var heartbeats: [UInt64] = []
    /// Per worker, the wall-clock time (seconds since 1970) its heartbeat last moved.
    public private(set) var lastProgress: [Double] = []

    public init() {}

    /// `service address port`, the key of a real server in the sampler.
    public static func key(service: String, address: String, port: UInt16) -> String { "\(service) \(address) \(port)" }

    /// Records a sample taken at `seconds` (monotonic) and `wallClock` (since 1970).
    public func record(_ traffic: [ServerTraffic], heartbeats current: [UInt64], seconds: Double, wallClock: Double) {
        var now: [String: TrafficStats] = [:]
        for t in traffic {
            now[Self.key(service: t.service, address: t.address.description, port: t.port)] = TrafficStats(
                connections: t.connections, inPackets: t.inPackets, inBytes: t.inBytes, outPackets: t.outPackets,
                outBytes: t.outBytes)
        }
        if let last {
            var fresh: [String: TrafficRate] = [:]
            for (key, stats) in now {
                fresh[key] = TrafficRate(
                    from: last.traffic[key] ?? TrafficStats(), to: stats, seconds: seconds - last.seconds)
            }
            rates = fresh
        }
        last = (seconds, now)
        if lastProgress.count != current.count {
            lastProgress = Array(repeating: wallClock, count: current.count)
        } else {
            for (index, beat) in current.enumerated() where index < heartbeats.count && beat != heartbeats[index] {
                lastProgress[index] = wallClock
            }
        }
        heartbeats = current
    }

    public func rate(_ key: String) -> TrafficRate { rates[key] ?? TrafficRate() }
}
