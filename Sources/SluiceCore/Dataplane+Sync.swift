// Connection sync in the data plane (docs/sync.md): what a worker tells its peers and what it takes
// from them.
//
// Sending: a connection is worth a peer's table once it is past its handshake — ESTABLISHED (plain or
// SYN-proxied, after the real server answered) or a UDP flow its server answered — and after every
// state change from there, and when it goes. Half-open entries and unanswered UDP flows are never
// sent, so a spoofed flood is not copied to every gateway. Events go to the outbox (SyncOutbox.swift),
// which the sync service empties between batches; `syncSnapshot` walks the table for the periodic
// refresh and for a starting peer's bulk request (which also gets the peers' entries held here).
//
// Receiving: an entry from a peer is installed as a *synced* entry, marked by `syncedRealServer` in
// `realServerIndex`: no scheduler, threshold, persistence template or UDP budget of ours counts it,
// and it holds no port of our pools (its LIP is the peer's). It translates frames exactly like the
// peer's entry, so when the peer dies and its clients' frames and its LIP's replies come here, the
// connection carries on. Synced entries are not sent on again (no loops between three gateways).

import SluicePacket

extension Dataplane {
    /// `Connection.realServerIndex` of an entry installed from a peer.
    public static let syncedRealServer: UInt16 = .max - 1

    /// True for an entry installed from a peer.
    @inlinable @inline(__always)
    static func isSynced(_ c: Connection) -> Bool { c.realServerIndex == syncedRealServer }

    /// True when a connection in `state` is worth a peer's table.
    @inlinable @inline(__always)
    static func isWorthSyncing(_ state: ConnectionState) -> Bool {
        !isHalfOpen(state) && state != .udpOneway
    }

    /// Queues an event for the peers (a state change or a removal; never per packet).
    @usableFromInline @inline(never)
    mutating func queueSyncEvent(_ kind: SyncEventKind, _ c: Connection) {
        guard syncOutbox.isEnabled, !Self.isSynced(c), Self.isWorthSyncing(c.state) else { return }
        if syncOutbox.append(kind, c) {
            counters.count(.syncEventsQueued)
        } else {
            counters.count(.syncEventsOverflowed)
        }
    }

    /// The queued events, with their idle time left at `now`, only the last of each connection's; the
    /// outbox is empty after.
    public mutating func takeSyncEvents(now: UInt64) -> [SyncRecord] {
        let all = syncOutbox.take(now: now)
        let kept = SyncRecord.latest(all)
        if kept.count < all.count {
            let updates = all.lazy.filter { $0.kind == .update }.count - kept.lazy.filter { $0.kind == .update }.count
            counters.count(.syncUpdatesCoalesced, by: UInt64(updates))
            counters.count(.syncRemovalsCoalesced, by: UInt64(all.count - kept.count - updates))
        }
        return kept
    }

    /// Update records of the connections worth syncing among `slots` table slots from `start` on;
    /// `next` is where to go on, nil at the end of the table. The refresh sends only this gateway's own
    /// connections (`includeSynced` false); a bulk request gets the peers' entries too, because a
    /// restarted gateway must learn again the connections that others carried for it while it was gone.
    public func syncSnapshot(from start: ConnectionID, slots: Int, now: UInt64, includeSynced: Bool = false) -> (
        records: [SyncRecord], next: ConnectionID?
    ) {
        var records: [SyncRecord] = []
        var id = max(start, 0)
        let end = ConnectionID(min(Int(id) + max(slots, 1), table.capacity))
        while id < end {
            if table.isLive(id) {
                let c = table[id]
                if includeSynced || !Self.isSynced(c), Self.isWorthSyncing(c.state), !c.isExpired(at: now) {
                    let idle = UInt32(min(c.idleLeft(at: now), UInt64(UInt32.max)))
                    records.append(SyncRecord(kind: .update, connection: c, idleMilliseconds: idle))
                }
            }
            id += 1
        }
        return (records, Int(id) < table.capacity ? id : nil)
    }

    /// Installs, updates or removes the entries of a peer's records.
    public mutating func installSynced(_ records: [SyncRecord], now: UInt64) {
        for record in records { installSynced(record, now: now) }
    }

    mutating func installSynced(_ record: SyncRecord, now: UInt64) {
        var c = record.connection
        if let hit = table.lookup(c.inboundKey) ?? table.lookup(c.outboundKey) {
            guard Self.isSynced(table[hit.id]) else {
                counters.count(.syncRefusedOwnTuple)
                return
            }
            if record.kind == .remove {
                release(hit.id)
                counters.count(.syncEntriesRemoved)
                return
            }
            let old = table[hit.id]
            guard old.inboundKey == c.inboundKey, old.outboundKey == c.outboundKey else {
                // Another connection of the peer's holds one of the tuples: the newer record wins.
                release(hit.id)
                installSynced(record, now: now)
                return
            }
            c.serviceIndex = old.serviceIndex
            c.realServerIndex = Self.syncedRealServer
            let deadline = now &+ min(UInt64(record.idleMilliseconds), Connection.maximumIdleMilliseconds)
            c.expire(at: deadline)
            table[hit.id] = c
            wheel.schedule(hit.id, at: deadline)
            counters.count(.syncEntriesUpdated)
            return
        }
        // A removal of something we do not hold is not news.
        guard record.kind == .update else { return }
        guard Self.isWorthSyncing(c.state), record.idleMilliseconds > 0 else {
            counters.count(.syncRefusedStale)
            return
        }
        if let ownership, ownership.owner(ofClientFlow: c.inboundKey) != worker {
            counters.count(.syncRefusedWorker)
            return
        }
        guard services.pool(ofLocalAddress: c.local) == nil else {
            counters.count(.syncRefusedOwnLocalAddress)
            return
        }
        guard let service = services.service(address: c.vip, port: c.vport, transport: c.transport) else {
            counters.count(.syncRefusedNoService)
            return
        }
        c.serviceIndex = UInt16(truncatingIfNeeded: service)
        c.realServerIndex = Self.syncedRealServer
        let deadline = now &+ min(UInt64(record.idleMilliseconds), Connection.maximumIdleMilliseconds)
        c.expire(at: deadline)
        guard table.count < table.capacity, let id = table.insert(c) else {
            counters.count(.syncRefusedTableFull)
            return
        }
        wheel.schedule(id, at: deadline)
        counters.count(.syncEntriesInstalled)
    }
}
