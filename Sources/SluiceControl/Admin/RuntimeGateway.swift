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

    /// Table entries a worker examines between two batches while it lists connections (about 2 MiB
    /// of entries): a listing of a full table costs forwarding a little in many places, not a stall.
    public static let scanSlice = 16_384

    public func connections(_ filter: ConnectionFilter, offset: Int, limit: Int) async -> ConnectionPage? {
        // Each worker walks its table in slices and copies only what the page needs. With several
        // workers the page spans their lists in worker order: count first, then copy the slices.
        let workers = runtime.heartbeats().count
        if workers <= 1 {
            let answers = await scan(filter, skip: offset, limit: limit)
            guard let (total, found) = answers.first ?? nil else { return nil }
            return ConnectionPage(total: total, offset: offset, limit: limit, connections: found)
        }
        let counts = await scan(filter, skip: 0, limit: 0)
        guard counts.allSatisfy({ $0 != nil }) else { return nil }
        let totals = counts.map { $0!.0 }
        var connections: [ConnectionEntry] = []
        var start = 0
        for (worker, total) in totals.enumerated() {
            defer { start += total }
            let from = max(offset, start)
            let to = min(offset + limit, start + total)
            guard from < to else { continue }
            let answers = await scan(filter, skip: from - start, limit: to - from, only: worker)
            guard let (_, found) = answers[worker] else { return nil }
            connections += found
        }
        return ConnectionPage(total: totals.reduce(0, +), offset: offset, limit: limit, connections: connections)
    }

    /// One walk per worker (or of worker `only`), in slices; the entries are made into API values
    /// here, off the workers' threads.
    func scan(_ filter: ConnectionFilter, skip: Int, limit: Int, only: Int? = nil) async -> [(Int, [ConnectionEntry])?]
    {
        let answers = await runtime.askInSlices(initial: ConnectionScan(skip: skip, limit: limit)) {
            dataplane, scan -> (Int, [ConnectionSnapshot], Int)? in
            if let only, dataplane.workerIndex != only { return (0, [], dataplane.workerIndex) }
            let done = dataplane.continueScan(
                &scan, budget: Self.scanSlice, now: MonotonicClock.milliseconds(), matching: filter.matches)
            return done ? (scan.matched, scan.found, dataplane.workerIndex) : nil
        }
        return answers.map { answer in
            answer.map { total, found, worker in (total, found.map { Self.entry($0, worker: worker) }) }
        }
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
