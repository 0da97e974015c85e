// The admin gateway over the AF_XDP runtime: every question goes to the workers' mailboxes and is
// answered between batches (DataPlaneRuntime.ask), with a one-second deadline so a stalled worker
// costs a missing answer, not a hung request. Sums are made here, off the workers' threads.

import SluiceAdmin
import SluiceCore
import SluicePacket
import SluiceXDP

/// AdminGateway over the workers of a DataPlaneRuntime.
public struct RuntimeGateway: AdminGateway {
    let runtime: DataPlaneRuntime
    /// Names of the local-address groups by their sorted addresses, to label LIPs.
    let groupNames: @Sendable () async -> [[IPAddress]: String]

    public init(runtime: DataPlaneRuntime, groupNames: @escaping @Sendable () async -> [[IPAddress]: String]) {
        self.runtime = runtime
        self.groupNames = groupNames
    }

    public func serverTraffic() async -> [ServerTraffic]? {
        let answers = await runtime.ask { dataplane in dataplane.serverTrafficSnapshot() }
        let present = answers.compactMap { $0 }
        guard !present.isEmpty else { return nil }
        return Self.sum(present)
    }

    /// Sums per-worker lists by (service, address, port), keeping the first list's order.
    static func sum(_ lists: [[ServerTraffic]]) -> [ServerTraffic] {
        var order: [String] = []
        var total: [String: ServerTraffic] = [:]
        for list in lists {
            for t in list {
                let key = "\(t.service) \(t.address) \(t.port)"
                if var existing = total[key] {
                    existing.connections &+= t.connections
                    existing.inPackets &+= t.inPackets
                    existing.inBytes &+= t.inBytes
                    existing.outPackets &+= t.outPackets
                    existing.outBytes &+= t.outBytes
                    existing.active &+= t.active
                    existing.inactive &+= t.inactive
                    total[key] = existing
                } else {
                    order.append(key)
                    total[key] = t
                }
            }
        }
        return order.compactMap { total[$0] }
    }

    public func connections(_ filter: ConnectionFilter, offset: Int, limit: Int) async -> ConnectionPage? {
        let wanted = offset + limit
        let answers = await runtime.ask { dataplane -> (Int, [ConnectionEntry]) in
            let now = MonotonicClock.milliseconds()
            let found = dataplane.listConnections(now: now, limit: wanted) { filter.matches($0) }
            return (found.total, found.connections.map { Self.entry($0, worker: dataplane.workerIndex) })
        }
        let present = answers.compactMap { $0 }
        guard !present.isEmpty else { return nil }
        let total = present.reduce(0) { $0 + $1.0 }
        let all = present.flatMap(\.1)
        let page = all.count > offset ? Array(all[offset..<min(all.count, wanted)]) : []
        return ConnectionPage(total: total, offset: offset, limit: limit, connections: page)
    }

    static func entry(_ s: ConnectionSnapshot, worker: Int) -> ConnectionEntry {
        let c = s.connection
        return ConnectionEntry(
            protocol: c.transport == TransportProtocol.udp.rawValue ? "udp" : "tcp",
            state: ConnectionStateName.ipvs(c.state), expiresInMilliseconds: s.expiresIn, service: s.service,
            client: c.client.description, clientPort: c.clientPort, vip: c.vip.description, vport: c.vport,
            local: c.local.description, localPort: c.localPort, server: c.real.description, serverPort: c.realPort,
            worker: worker)
    }

    public func localAddresses() async -> [LocalAddressUsage]? {
        let answers = await runtime.ask { dataplane in dataplane.localAddressUsage }
        let present = answers.compactMap { $0 }
        guard !present.isEmpty else { return nil }
        let names = await groupNames()
        var order: [IPAddress] = []
        var usage: [IPAddress: LocalAddressUsage] = [:]
        for worker in present {
            for group in worker {
                let name = names[group.addresses.map(\.address).sorted()] ?? ""
                for stats in group.addresses {
                    var u =
                        usage[stats.address]
                        ?? LocalAddressUsage(
                            address: stats.address.description, group: name, portsUsed: 0, portsFree: 0,
                            allocationFailures: 0)
                    if usage[stats.address] == nil { order.append(stats.address) }
                    u.portsUsed &+= UInt64(stats.inUse)
                    u.portsFree &+= UInt64(stats.free)
                    u.allocationFailures &+= group.allocationFailures
                    usage[stats.address] = u
                }
            }
        }
        return order.compactMap { usage[$0] }
    }

    public func counters() -> [(name: String, value: UInt64)] {
        var out = runtime.counters().named
        if let xdp = try? runtime.xdpStats() {
            for (name, value) in xdp.sorted(by: { $0.key < $1.key }) { out.append(("xdp_\(name)", value)) }
        }
        return out
    }

    public func explain(
        transport: TransportProtocol, client: IPAddress, clientPort: UInt16, vip: IPAddress, vport: UInt16
    ) async -> Explanation? {
        let answers = await runtime.ask { dataplane in
            dataplane.explain(
                transport: transport, client: client, clientPort: clientPort, vip: vip, vport: vport,
                now: MonotonicClock.milliseconds())
        }
        // A new flow's SYN reaches one worker; with one queue (the default) that is worker 0, and any
        // worker finds an existing connection it owns.
        if let owner = answers.compactMap({ $0 }).first(where: { $0.existing != nil }) { return owner }
        return answers.first ?? nil
    }

    public func heartbeats() -> [UInt64] { runtime.heartbeats() }
}
