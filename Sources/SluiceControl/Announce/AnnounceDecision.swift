// Which VIPs the gateway announces to its routers, decided from scratch every time (level-triggered,
// like ExaBGP's healthcheck and anycast-healthchecker) from what is true now:
// - nothing before the data plane is up and every checked server has had its first check;
// - nothing while the gateway is drained (API or drain file) or a worker has stalled;
// - a VIP only while at least one of its virtual servers has its quorum of live real servers.
// The same inputs always give the same answer, so a lost or duplicated update does no harm.

import SluiceAdmin
import SluicePacket

/// The announcement decision.
public enum AnnounceDecision {
    /// What the gateway knows about itself.
    public struct Gateway: Sendable {
        public var dataPlaneUp: Bool
        public var drained: Bool
        public var stalled: Bool

        public init(dataPlaneUp: Bool, drained: Bool, stalled: Bool) {
            self.dataPlaneUp = dataPlaneUp
            self.drained = drained
            self.stalled = stalled
        }
    }

    /// Every VIP of the configuration, in file order, with whether it is announced and why.
    public static func decide(_ state: DesiredState, gateway: Gateway) -> [(
        vip: IPAddress, announcement: VIPAnnouncement
    )] {
        var order: [IPAddress] = []
        var services: [IPAddress: [VirtualServer]] = [:]
        for vs in state.configuration.virtualServers {
            if services[vs.vip] == nil { order.append(vs.vip) }
            services[vs.vip, default: []].append(vs)
        }
        let unchecked = state.health.values.contains { $0.checks == 0 }
        return order.map { vip in
            let reason: String
            if !gateway.dataPlaneUp {
                reason = "dataplane_down"
            } else if gateway.stalled {
                reason = "stall"
            } else if gateway.drained {
                reason = "drain"
            } else if unchecked {
                reason = "first_checks_pending"
            } else if services[vip]?.contains(where: { !state.isBelowQuorum($0) }) == true {
                reason = "ok"
            } else {
                let worst = (services[vip] ?? []).map { vs -> String in
                    let live = state.liveCount(of: vs)
                    return "quorum \(live.live)/\(vs.quorum) (\(vs.name))"
                }
                reason = worst.joined(separator: ", ")
            }
            return (vip, VIPAnnouncement(vip: vip.description, announced: reason == "ok", reason: reason))
        }
    }
}
