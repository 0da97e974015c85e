// Connection expiry. Packets only move `expiry` forward in the entry; the timer wheel fires at
// the deadline it was armed with, and an entry whose deadline moved is simply re-armed (lazy
// refresh: no wheel work per packet). An expired connection gives its local port back to the
// pool's tail (FIFO reuse, docs/protocol.md §4) and its real server's connection count to the scheduler.

import SluicePacket

extension Dataplane {
    @usableFromInline
    mutating func expireOrRearm(_ id: ConnectionID, now: UInt64) {
        if isAwaitingServer(id) {
            synProxyRetransmitOrExpire(id, now: now)
            return
        }
        if !table[id].isExpired(at: now) {
            let deadline = table[id].expiresAt(near: now)
            wheel.schedule(id, at: deadline)
            // A live connection keeps its client's template alive past its new deadline.
            if services.hasPersistence { extendTemplate(of: table[id]) }
            return
        }
        release(id)
        counters.count(.connectionsExpired)
    }

    /// Removes a connection: frees its local port, updates the scheduler, cancels its timer.
    @usableFromInline
    mutating func release(_ id: ConnectionID) {
        let c = table[id]
        wheel.cancel(id)
        if c.flags & connectionSynProxyPending != 0 { synProxy.queue.removeAll(of: id) }
        if let pool = services.pool(ofLocalAddress: c.local) {
            services.pools[pool].release(address: c.local, port: c.localPort)
        }
        if syncOutbox.isEnabled { queueSyncEvent(.remove, c) }
        // A peer's entry was never counted in our budgets, half-open counts or templates.
        guard !Self.isSynced(c) else {
            table.remove(id)
            return
        }
        if c.transport == TransportProtocol.udp.rawValue {
            udpBudget.closed(service: Int(c.serviceIndex), source: c.client)
        }
        countHalfOpen(c, from: c.state, to: nil)
        // The client keeps its server for the persistence timeout after this connection ends.
        if services.hasPersistence { extendTemplate(of: c) }
        let service = Int(c.serviceIndex)
        // After a reload the indexes may name another service: only count what still matches.
        if service < services.services.count,
            Int(c.realServerIndex) < services.services[service].configuration.realServers.count,
            services.services[service].configuration.realServers[Int(c.realServerIndex)].address == c.real
        {
            services.services[service].scheduler.connectionClosed(
                Int(c.realServerIndex), wasActive: c.state == .established)
        }
        table.remove(id)
    }

    /// True for a SYN-proxied entry whose RS handshake is pending: its `expiry` is the next SYN
    /// retransmission, handled by `synProxyRetransmitOrExpire`.
    @inlinable @inline(__always)
    func isAwaitingServer(_ id: ConnectionID) -> Bool {
        table[id].flags & connectionSynProxyPending != 0 && table[id].state == .synSent
    }
}
