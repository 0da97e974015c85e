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

/// A walk of the connection table done in slices (`Dataplane.continueScan`).
public struct ConnectionScan: Sendable {
    /// The next entry to look at.
    public var next: ConnectionID = 0
    /// Matching entries seen so far.
    public var matched = 0
    /// Matching entries to pass over before copying.
    public let skip: Int
    /// Matching entries to copy at most.
    public let limit: Int
    public var found: [ConnectionSnapshot] = []

    public init(skip: Int, limit: Int) {
        self.skip = skip
        self.limit = limit
    }
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
    /// What chose the server: `persistence template (expires in N s)` or `scheduler KIND`.
    public var rule: String?

    public init() {}
}

/// One local-address group's usage in one worker.
public struct LocalAddressGroupUsage: Sendable {
    public var addresses: [LocalAddressStatistics]
    public var allocationFailures: UInt64
}

extension Dataplane {
    /// The name of the entry's virtual server (empty when a reload removed it).
    func serviceName(of c: Connection) -> String {
        Int(c.serviceIndex) < services.services.count ? services.services[Int(c.serviceIndex)].configuration.name : ""
    }

    func snapshot(_ c: Connection, now: UInt64) -> ConnectionSnapshot {
        ConnectionSnapshot(
            connection: c, service: serviceName(of: c), expiresIn: c.idleLeft(at: now))
    }

    /// Connections for which `matches` holds: how many there are, and the first `limit` of them.
    /// One pass over the whole table (tests; the runtime uses `continueScan` in slices).
    public func listConnections(
        now: UInt64, limit: Int, matching matches: (Connection, String) -> Bool
    ) -> (total: Int, connections: [ConnectionSnapshot]) {
        var scan = ConnectionScan(skip: 0, limit: limit)
        while !continueScan(&scan, budget: Int.max, now: now, matching: matches) {}
        return (scan.matched, scan.found)
    }

    /// Continues a walk of the table over at most `budget` entries: counts the entries for which
    /// `matches` holds and keeps those numbered `skip ..< skip + limit` in the walk's order (the
    /// others are only counted, not copied). Returns true once the whole table has been walked.
    public func continueScan(
        _ scan: inout ConnectionScan, budget: Int, now: UInt64, matching matches: (Connection, String) -> Bool
    ) -> Bool {
        let end = Int32(clamping: min(table.capacity, Int(scan.next) + budget))
        var id = scan.next
        while id < end {
            if table.isLive(id), matches(table[id], serviceName(of: table[id])) {
                if scan.matched >= scan.skip && scan.found.count < scan.limit {
                    scan.found.append(snapshot(table[id], now: now))
                }
                scan.matched += 1
            }
            id += 1
        }
        scan.next = end
        return Int(end) >= table.capacity
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
        if let hit = table.lookup(key), !table[hit.id].isExpired(at: now) {
            result.existing = snapshot(table[hit.id], now: now)
        }
        guard let index = services.service(address: vip, port: vport, transport: transport.rawValue) else {
            result.failure = .noService
            return result
        }
        let service = services.services[index]
        result.service = service.configuration.name
        let timeout = services.persistenceTimeouts[index]
        var chosen: Int?
        if timeout > 0, let templates,
            let template = templates.lookup(templateKey(service: index, client: client), now: Self.seconds(now)),
            let server = templateServer(service: index, tag: template.tag)
        {
            chosen = server
            result.rule = "persistence template (expires in \(template.expiry - Self.seconds(now)) s)"
        } else {
            var scheduler = service.scheduler
            chosen = scheduler.pick(client: client, clientPort: clientPort, vip: vip)
            result.rule =
                "scheduler \(service.configuration.scheduler.rawValue)"
                + (timeout > 0 ? " (a new persistence template for \(timeout) s)" : "")
        }
        guard let pick = chosen else {
            result.failure = .noRealServer
            return result
        }
        let rs = service.configuration.realServers[pick]
        guard rs.address.isV6 == client.isV6 else {
            result.failure = .familyMismatch
            return result
        }
        result.server = (rs.address, rs.port)
        guard
            let local = findLocalPort(
                pool: service.poolIndex, towards: rs.address, port: rs.port,
                transport: transport.rawValue)
        else {
            result.failure = .localPortsExhausted
            return result
        }
        result.local = (local.address, local.port)
        return result
    }
}
