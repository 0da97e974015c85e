// Events of one collection round that a peer needs only the last of: a connection that opened,
// changed state and closed within the same 100 ms is sent once, as its last event (a removal of an
// entry the peer never had is nothing to it). Short connections are most of a busy gateway's events,
// so this is most of what sync costs the sender.

extension SyncRecord {
    /// `records` with only the last event of each connection (by its client tuple), in the order of
    /// those last events.
    public static func latest(_ records: [SyncRecord]) -> [SyncRecord] {
        guard records.count > 1 else { return records }
        var seen = Set<FlowKey>()
        seen.reserveCapacity(records.count)
        var kept: [SyncRecord] = []
        kept.reserveCapacity(records.count)
        for record in records.reversed() where seen.insert(record.connection.inboundKey).inserted {
            kept.append(record)
        }
        return kept.reversed()
    }
}
