// The hand-off decision (FlowOwnership.swift, docs/design.md §2): before a worker looks a frame's tuple
// up in its own table it checks that it owns the tuple; if another worker does, the frame goes there
// untouched. A frame that was handed over is processed where it arrived, never handed on again, so a
// disagreement can cost a drop but never a loop.

import SluicePacket

extension Dataplane {
    /// The worker that owns the connection of a frame whose tuple as received is `key`, when that is
    /// not this worker; nil with one worker, for a frame handed over, or when this worker owns it.
    /// A reply to a LIP that arrived here is counted (`replies_handed_off`): with RSS-aware ports
    /// (FlowOwnership.swift) that is the prediction missing.
    @inlinable @inline(__always)
    mutating func foreignOwner(of key: FlowKey) -> Int? {
        // One worker (the common case) decides here, in line; the lookups run out of line.
        guard workerCount > 1, !handedOff else { return nil }
        return foreignOwnerOfShared(key)
    }

    @usableFromInline @inline(never)
    mutating func foreignOwnerOfShared(_ key: FlowKey) -> Int? {
        let toService =
            !services.isLocalAddress(key.destination)
            && services.service(address: key.destination, port: key.destinationPort, transport: key.transport) != nil
        let owner =
            toService
            ? ownership?.owner(ofClientFlow: key) ?? worker
            : ownership?.owner(ofLocalPort: key.destinationPort) ?? worker
        if owner == worker { return nil }
        if !toService { counters.count(.repliesHandedOff) }
        return owner
    }
}
