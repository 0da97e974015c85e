// How the control plane asks a worker something (a connection listing, per-server counts, a drain)
// without touching the hot path: requests wait in a bounded mailbox, and the worker runs them
// between batches on its own thread, with its data plane in hand. The worker's only per-iteration
// cost is one relaxed atomic load of the number of waiting requests; the lock is taken only when
// that number is not zero. A full mailbox refuses the request (the caller reports it as busy)
// rather than growing or blocking, so nothing a client does can stall a worker or exhaust memory.
// A request returns whether it is finished: a long one (a walk of the whole connection table) does
// a bounded slice of its work per visit and stays in the mailbox for the next batch, so forwarding
// between two slices goes on as usual.

import Synchronization

/// A bounded queue of requests that one worker runs between batches.
public final class WorkerMailbox<Processor: ~Copyable>: Sendable {
    /// A request: runs on the worker's thread with its data plane; returns true when finished, false
    /// to be run again between the next batches.
    public typealias Request = @Sendable (inout Processor) -> Bool

    /// Requests waiting at most; more are refused.
    public let capacity: Int
    private let queue: Mutex<[Request]>
    private let waiting = Atomic<Int>(0)

    public init(capacity: Int = 64) {
        self.capacity = max(1, capacity)
        self.queue = Mutex([])
    }

    /// Queues a request; false when the mailbox is full.
    public func post(_ request: @escaping Request) -> Bool {
        queue.withLock { requests in
            guard requests.count < capacity else { return false }
            requests.append(request)
            waiting.store(requests.count, ordering: .releasing)
            return true
        }
    }

    /// Requests waiting now.
    public var count: Int { waiting.load(ordering: .acquiring) }

    /// The worker's side: runs every waiting request once, oldest first; unfinished ones stay, ahead
    /// of any posted meanwhile. Cheap when empty.
    @inline(__always)
    public func serve(_ processor: inout Processor) {
        guard waiting.load(ordering: .relaxed) > 0 else { return }
        let requests = queue.withLock { requests -> [Request] in
            let taken = requests
            requests.removeAll(keepingCapacity: true)
            waiting.store(0, ordering: .releasing)
            return taken
        }
        var unfinished: [Request] = []
        for request in requests where !request(&processor) { unfinished.append(request) }
        guard !unfinished.isEmpty else { return }
        queue.withLock { requests in
            requests.insert(contentsOf: unfinished, at: 0)
            waiting.store(requests.count, ordering: .releasing)
        }
    }
}
