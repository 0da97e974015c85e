// One worker's SYNPROXY state (docs/protocol.md §2): the cookie keys, the held-segment pool, a scratch
// frame for replaying held segments, the budget for RSTs answering bad cookies, and per-server
// counts of RS handshakes that timed out.
//
// Held segments are replayed through `Dataplane.translateInbound`, which mutates the whole data
// plane, so the frame it rewrites cannot live inside `self` while it runs: `scratch` is swapped out
// into a local for the duration (an array move, no allocation) and swapped back.
//
// "Suspect" servers: an RS that lets a handshake time out is counted per (service, server)
// (`serverTimeouts`). The data plane does not change weights on its own: the health checker owns
// that decision (docs/design.md §5), and a count it can read is the signal (dpvs marks the dest dead,
// `dp_vs_dest_detected_dead`, without a health check to confirm it).

import SluicePacket

/// Per-worker SYNPROXY state.
public struct SynProxy {
    @usableFromInline var configuration: SynProxyConfiguration
    @usableFromInline var cookies: SynCookie
    @usableFromInline var queue: SynProxySegmentQueue
    @usableFromInline var scratch: [UInt8]
    @usableFromInline var resetBudget = TokenBucket(ratePerSecond: 1000, burst: 100)
    /// RS handshake timeouts, `serverTimeouts[service][server]`.
    @usableFromInline var serverTimeouts: [[UInt64]]
    /// The egress of the last SYN sent to each real server, for retransmissions from the timer
    /// (which has no NetworkView); a zero destination MAC means none yet.
    @usableFromInline var serverEgress: [[Egress]]
    /// Servers whose SYN found no neighbour entry: `advance(now:network:)` resolves them.
    @usableFromInline var serverEgressWanted: [[Bool]]
    /// What that SYN looked like to the ip rules (its LIP, ports): the retry routes the same way.
    @usableFromInline var serverEgressQuery: [[RouteQuery]]
    @usableFromInline var serverEgressWantedCount = 0
    @usableFromInline var lastEgressAttempt: UInt64 = 0

    /// - Parameters:
    ///   - configuration: the settings (clamped to their valid ranges).
    ///   - services: the virtual services, for the per-server counters.
    ///   - connectionCapacity: the connection table's capacity (ids index the hold queue).
    ///   - cookieKey: 128-bit SipHash key of the SYN cookies.
    ///   - previousCookieKey: the previous generation's key, still accepted (nil: none).
    public init(
        configuration: SynProxyConfiguration, services: [VirtualServiceConfiguration], connectionCapacity: Int,
        cookieKey: (UInt64, UInt64), previousCookieKey: (UInt64, UInt64)? = nil
    ) {
        self.configuration = configuration.clamped
        self.cookies = SynCookie(key: cookieKey, previousKey: previousCookieKey)
        var slots = self.configuration.heldSegmentSlots
        if slots == 0 { slots = min(max(connectionCapacity / 8, 64), 4096) }
        self.queue = SynProxySegmentQueue(slots: slots, connections: max(connectionCapacity, 1))
        self.scratch = Array(repeating: 0, count: SynProxySegmentQueue.slotSize)
        self.serverTimeouts = services.map { Array(repeating: 0, count: $0.realServers.count) }
        self.serverEgress = services.map { Array(repeating: Egress(), count: $0.realServers.count) }
        self.serverEgressWanted = services.map { Array(repeating: false, count: $0.realServers.count) }
        self.serverEgressQuery = services.map {
            Array(repeating: RouteQuery(source: IPAddress(v4: 0)), count: $0.realServers.count)
        }
    }

    /// Takes a new configuration. Per-server counts survive for services whose name and server
    /// list are unchanged; the hold pool keeps its size.
    mutating func apply(
        _ configuration: SynProxyConfiguration, services: [VirtualServiceConfiguration],
        previous: [VirtualServiceConfiguration]
    ) {
        self.configuration = configuration.clamped
        var counts: [[UInt64]] = []
        for vs in services {
            var row = Array(repeating: UInt64(0), count: vs.realServers.count)
            if let old = previous.firstIndex(where: {
                $0.name == vs.name && $0.realServers.map(\.address) == vs.realServers.map(\.address)
            }), old < serverTimeouts.count, serverTimeouts[old].count == row.count {
                row = serverTimeouts[old]
            }
            counts.append(row)
        }
        serverTimeouts = counts
        serverEgress = services.map { Array(repeating: Egress(), count: $0.realServers.count) }
        serverEgressWanted = services.map { Array(repeating: false, count: $0.realServers.count) }
        serverEgressQuery = services.map {
            Array(repeating: RouteQuery(source: IPAddress(v4: 0)), count: $0.realServers.count)
        }
        serverEgressWantedCount = 0
    }
}
