// Opening a connection: the steps FULLNAT (on a client SYN or first UDP datagram) and SYNPROXY (on
// a proven cookie ACK) share. Picking the real server, taking a LIP port, choosing the RS-leg ISN
// (RFC 6528, docs/protocol.md pitfall 5) and marking the client-address state happen in `draftConnection`; the
// caller then adds its own translation state, and `commitConnection` indexes the entry, arms its
// timer and tells the scheduler. One place, so the two paths cannot drift apart in what a failure
// gives back (the port) or in how a new connection is counted.

import SluicePacket

extension Dataplane {
    /// A new entry for the packet `info` describes, to service `service`: real server scheduled,
    /// local port taken, and for TCP `seqDelta` (RS-leg ISN − `clientISN`), `serverAck` (the RS-leg
    /// ISN + 1) and the client-address marks set. Returns nil with `failure` set, holding nothing.
    @inlinable
    mutating func draftConnection(
        service: Int, state: ConnectionState, expiresAt: UInt64, clientISN: UInt32?, now: UInt64,
        failure: inout DropReason
    ) -> Connection? {
        guard table.count < table.capacity else {
            failure = .connectionTableFull
            return nil
        }
        guard let (serverIndex, _) = pickServer(service: service, now: now) else {
            failure = .noRealServer
            return nil
        }
        let server = services.services[service].configuration.realServers[serverIndex]
        guard server.address.isV6 == info.isV6 else {
            failure = .familyMismatch
            return nil
        }
        guard
            let local = allocateLocalPort(
                pool: services.services[service].poolIndex, towards: server.address, port: server.port,
                transport: info.l4Protocol)
        else {
            failure = .localPortsExhausted
            return nil
        }
        var c = Connection(
            client: info.source, clientPort: info.sourcePort, vip: info.destination, vport: info.destinationPort,
            local: local.address, localPort: local.port, real: server.address, realPort: server.port,
            transport: info.l4Protocol, state: state, serviceIndex: UInt16(truncatingIfNeeded: service),
            realServerIndex: UInt16(truncatingIfNeeded: serverIndex), expiresAt: expiresAt)
        if let clientISN {
            let isn = isnGenerator.isn(
                local: local.address, localPort: local.port, remote: server.address, remotePort: server.port,
                nowMilliseconds: now)
            c.seqDelta = isn &- clientISN  // wraps: a difference of sequence numbers
            c.serverAck = isn &+ 1
            prepareClientAddress(&c, service: service, headerStart: isn &+ 1)
        }
        return c
    }

    /// Takes a local port whose reply tuple (server → LIP:port, `transport`) no connection of this
    /// worker uses (docs/protocol.md §4: ports are unique per reply tuple, as with conntrack's SNAT).
    @inlinable
    mutating func allocateLocalPort(pool: Int, towards server: IPAddress, port: UInt16, transport: UInt8)
        -> (address: IPAddress, port: UInt16)?
    {
        let v6 = server.isV6
        guard let choice = findLocalPort(pool: pool, towards: server, port: port, transport: transport) else {
            services.pools[pool].countExhausted(v6: v6)
            return nil
        }
        services.pools[pool].take(choice)
        if let ownership, ownership.repliesSteeredByRules {
            counters.count(.localPortsSteered)
        } else if let ownership, ownership.knowsNICQueues {
            let reply = FlowKey(
                source: server, destination: choice.address, sourcePort: port, destinationPort: choice.port,
                transport: transport)
            counters.count(ownership.predictedWorker(of: reply) == worker ? .localPortsSteered : .localPortsUnsteered)
        }
        return (choice.address, choice.port)
    }

    /// The local port `allocateLocalPort` would take, without taking it. With the NIC's RSS key and
    /// table known (FlowOwnership.swift), a free port whose reply the NIC delivers to this worker's
    /// queue first; any free port of the slice otherwise (its replies are then handed over).
    @inlinable
    func findLocalPort(pool: Int, towards server: IPAddress, port: UInt16, transport: UInt8) -> LocalPortChoice? {
        func isFree(_ local: IPAddress, _ localPort: UInt16) -> Bool {
            table.lookup(
                FlowKey(
                    source: server, destination: local, sourcePort: port, destinationPort: localPort,
                    transport: transport)) == nil
        }
        if let ownership, ownership.knowsNICQueues, !ownership.repliesSteeredByRules {
            let steered = services.pools[pool].search(v6: server.isV6) { local, localPort in
                ownership.predictedWorker(
                    of: FlowKey(
                        source: server, destination: local, sourcePort: port, destinationPort: localPort,
                        transport: transport)) == worker && isFree(local, localPort)
            }
            if let steered { return steered }
        }
        return services.pools[pool].search(v6: server.isV6, isFree: isFree)
    }

    /// Indexes a drafted entry, arms its timer and counts it; nil (its port given back) when the
    /// table refuses it.
    @inlinable
    mutating func commitConnection(_ c: Connection) -> ConnectionID? {
        let service = Int(c.serviceIndex)
        guard let id = table.insert(c) else {
            services.pools[services.services[service].poolIndex].release(address: c.local, port: c.localPort)
            return nil
        }
        wheel.schedule(id, at: c.expiresAt(near: clock))
        if services.hasPersistence { extendTemplate(of: c) }
        countHalfOpen(c, from: nil, to: c.state)
        // IPVS counts a connection inactive until it is ESTABLISHED (wlc weighs active ×256).
        services.services[service].scheduler.connectionOpened(Int(c.realServerIndex), active: false)
        counters.count(.connectionsCreated)
        countServerTraffic(service: service, server: Int(c.realServerIndex), field: Self.trafficConnections, bytes: 0)
        return id
    }
}
