// Asking the kernel to resolve a neighbour. Workers call this for every batch that dropped frames for a
// missing neighbour, from their own threads, and must not block: the call only checks a per-(interface,
// address) rate limit and queues the request under a mutex held for a dictionary lookup, then wakes the
// mirror's thread through a self-pipe. That thread sends RTM_NEWNEIGH with NTF_USE (see NetlinkRequest)
// and reads the kernel's acknowledgement. The kernel's own retransmission (mcast/ucast_solicit,
// retrans_time) takes over from there; asking again after `resolutionInterval` restarts the resolution of
// an entry that went FAILED. Memory is bounded: past requests are pruned when 4096 are remembered, and at
// most 1024 requests wait in the queue.

import SluiceCore
import SluicePacket
import Synchronization

extension NetlinkMirror {
    /// Rate limiter and queue of resolution requests, shared between callers and the mirror's thread.
    struct ResolutionQueue: Sendable {
        var lastRequest: [NetlinkTables.NeighbourKey: ContinuousClock.Instant] = [:]
        var pending: [NetlinkTables.NeighbourKey] = []

        static let memory = 4096
        static let queueLimit = 1024

        /// Queues `key` unless it was asked for within `interval` or the queue is full.
        mutating func admit(
            _ key: NetlinkTables.NeighbourKey, now: ContinuousClock.Instant, interval: Duration
        ) -> Bool {
            if let last = lastRequest[key], now - last < interval { return false }
            if lastRequest.count >= ResolutionQueue.memory {
                lastRequest = lastRequest.filter { now - $0.value < interval }
            }
            guard lastRequest.count < ResolutionQueue.memory, pending.count < ResolutionQueue.queueLimit else {
                return false
            }
            lastRequest[key] = now
            pending.append(key)
            return true
        }
    }

    /// Asks the kernel to resolve `address` on `interfaceIndex` (ARP for IPv4, neighbour solicitation for
    /// IPv6) without sending anything from Sluice. Never blocks on the kernel; safe from any thread.
    /// The mirror's thread sends the request within microseconds; the kernel's answer shows up as a new
    /// snapshot once the neighbour resolves. Refusals (no such interface) are counted in `statistics()`.
    /// - Returns: true when the request was queued; false when the same neighbour was asked for within
    ///   `Configuration.resolutionInterval`, the queue is full, or the mirror is stopped.
    @discardableResult
    public func requestResolution(address: IPAddress, interfaceIndex: Int32) -> Bool {
        guard !shared.stopping.load(ordering: .relaxed) else { return false }
        let key = NetlinkTables.NeighbourKey(interfaceIndex: interfaceIndex, address: address)
        let now = ContinuousClock.now
        let interval = resolutionInterval
        let queued = shared.resolutions.withLock { $0.admit(key, now: now, interval: interval) }
        if queued {
            wakeup.signal()
        } else {
            shared.resolutionsRateLimited.add(1, ordering: .relaxed)
        }
        return queued
    }
}

extension NetlinkMirror.Loop {
    /// Sends every queued resolution request and reads each acknowledgement.
    func sendResolutions() {
        let batch = shared.resolutions.withLock { queue in
            let pending = queue.pending
            queue.pending.removeAll(keepingCapacity: true)
            return pending
        }
        for key in batch {
            sequence &+= 1  // wraps; only equality with the reply matters
            let expected = sequence
            let code: Int32?
            do {
                try requests.send(
                    NetlinkRequest.resolve(key.address, interfaceIndex: key.interfaceIndex, sequence: expected))
                code = acknowledgement(of: expected)
            } catch {
                code = error.code
            }
            if code == 0 {
                shared.resolutionRequests.add(1, ordering: .relaxed)
            } else {
                shared.resolutionFailures.add(1, ordering: .relaxed)
            }
        }
    }

    /// The kernel's answer to request `sequence`: 0 or a positive errno; nil when none came within 100 ms
    /// (the kernel answers synchronously, so this does not wait in practice).
    private func acknowledgement(of sequence: UInt32) -> Int32? {
        while requests.waitReadable(milliseconds: 100) {
            guard case .bytes(let count) = try? requests.receive(into: &buffer) else { continue }
            for message in NetlinkMessage.split(buffer[0..<count]).messages where message.sequence == sequence {
                if let code = message.errorCode { return code }
            }
        }
        return nil
    }
}
