// Questions the control plane asks a worker through its mailbox, answered between batches on the
// worker's thread (never on the per-packet path; these allocate): the connection listing, LIP port
// usage, and `explain`, which says what a new flow would get without changing anything (the
// scheduler and the pool are copied, and the copies make the choice).

import SluicePacket

/// One connection as a listing shows it.
public struct ConnectionSnapshot: Sendable {
    public var connection: Connection
    /// The virtual server's name (empty when a reload removed it).
    public var service: String
    /// Milliseconds until it expires if idle.
    public var expiresIn: UInt64
}

/// What `explain` found.
public struct Explanation: Sendable {
    /// The connection already holding this tuple, if any.
    public var existing: ConnectionSnapshot?
    /// The virtual server the destination belongs to.
    public var service: String?
    /// Where a new flow would go (nil with `failure` when it would be dropped).
    public var server: (address: IPAddress, port: UInt16)?
    public var local: (address: IPAddress, port: UInt16)?
    public var failure: DropReason?

    public init() {}
}

/// One local-address group's usage in one worker.
public struct LocalAddressGroupUsage: Sendable {
    public var addresses: [LocalAddressStatistics]
    public var allocationFailures: UInt64
}

extension Dataplane {
    func snapshot(_ c: Connection, now: UInt64) -> ConnectionSnapshot {
        let service =
            Int(c.serviceIndex) < services.services.count
            ? services.services[Int(c.serviceIndex)].configuration.name : ""
        return ConnectionSnapshot(connection: c, service: service, expiresIn: c.expiresAt > now ? c.expiresAt - now : 0)
    }

    /// Connections for which `matches` holds: how many there are, and the first `limit` of them.
    public func listConnections(
        now: UInt64, limit: Int, matching matches: (ConnectionSnapshot) -> Bool
    ) -> (total: Int, connections: [ConnectionSnapshot]) {
        var total = 0
        var out: [ConnectionSnapshot] = []
        table.forEach { _, c in
            let s = snapshot(c, now: now)
            guard matches(s) else { return }
            total += 1
            if out.count < limit { out.append(s) }
        }
        return (total, out)
    }

    /// Port usage of every local-address group of this worker.
    public var localAddressUsage: [LocalAddressGroupUsage] {
        services.pools.map { LocalAddressGroupUsage(addresses: $0.statistics, allocationFailures: $0.exhausted) }
    }

    /// What a new flow from `client`:`clientPort` to `vip`:`vport` would get now, or the connection
    /// that already has that tuple. Changes nothing.
    public func explain(
        transport: TransportProtocol, client: IPAddress, clientPort: UInt16, vip: IPAddress, vport: UInt16, now: UInt64
    ) -> Explanation {
        var result = Explanation()
        let key = FlowKey(
            source: client, destination: vip, sourcePort: clientPort, destinationPort: vport,
            transport: transport.rawValue)
        if let hit = table.lookup(key), table[hit.id].expiresAt > now {
            result.existing = snapshot(table[hit.id], now: now)
        }
        guard let index = services.service(address: vip, port: vport, transport: transport.rawValue) else {
            result.failure = .noService
            return result
        }
        let service = services.services[index]
        result.service = service.configuration.name
        var scheduler = service.scheduler
        guard let pick = scheduler.pick(client: client, clientPort: clientPort, vip: vip) else {
            result.failure = .noRealServer
            return result
        }
        let rs = service.configuration.realServers[pick]
        guard rs.address.isV6 == client.isV6 else {
            result.failure = .familyMismatch
            return result
        }
        result.server = (rs.address, rs.port)
        var pool = services.pools[service.poolIndex]
        guard let local = pool.allocate(v6: client.isV6) else {
            result.failure = .localPortsExhausted
            return result
        }
        result.local = local
        return result
    }
}
