// The local ports of one LIP that one worker may hand out (docs/protocol.md §4, dpvs sa_pool.c).
//
// Partition: worker k of n owns the ports p of the range with p % n == k (`owner(ofPort:workerCount:)`),
// so the owner of a reply is computable from its destination port alone, which is what the XDP
// program and NIC steering rules use to bring replies back to the worker holding the connection.
// dpvs masks with a power of two; a modulus gives the same split for any worker count.
//
// Free list: a preallocated ring in FIFO order. `allocate` pops the head, `release` pushes the tail,
// so the port reused next is the one idle longest. Local ports are reused long before the real
// server's TIME_WAIT (60 s) ends (dpvs releases after its 7 s TIME_WAIT), and FIFO reuse, together
// with clock-driven ISNs (SequenceNumberGenerator), keeps a reused LIP:lport from hitting a live
// TIME_WAIT socket on the RS (pitfalls 5, 6, 23). Probing for a free port (alibaba) was rejected: it
// costs up to thousands of hash lookups when the pool runs low.
//
// A per-port "allocated" flag makes a double or foreign release a counted no-op, never a crash or
// a duplicate entry in the ring.

/// One worker's FIFO pool of local ports for one local address.
public struct PortPool: Sendable {
    /// The configured range of all workers.
    public let range: ClosedRange<UInt16>
    /// This worker's index.
    public let worker: Int
    /// Number of workers sharing the range.
    public let workerCount: Int
    /// Smallest port of this worker's slice (meaningless when the slice is empty).
    @usableFromInline let firstPort: Int
    /// Ports in this worker's slice.
    public let capacity: Int
    /// Free ports as slice indices (port = firstPort + index · workerCount), FIFO from `head`.
    @usableFromInline var ring: [UInt16]
    @usableFromInline var head: Int
    @usableFromInline var freeCount: Int
    /// Allocation flag per slice index.
    @usableFromInline var allocated: [Bool]
    @usableFromInline var ignoredReleaseCount: UInt64

    /// The worker that owns `port`: `port % workerCount`.
    @inlinable
    public static func owner(ofPort port: UInt16, workerCount: Int) -> Int {
        Int(port) % workerCount
    }

    /// Creates the pool of `worker`'s slice of `range`, every port free, in ascending order.
    public init(range: ClosedRange<UInt16>, worker: Int, workerCount: Int) {
        precondition(workerCount >= 1 && worker >= 0 && worker < workerCount, "worker index out of range")
        self.range = range
        self.worker = worker
        self.workerCount = workerCount
        let low = Int(range.lowerBound)
        let high = Int(range.upperBound)
        let first = low + ((worker - low % workerCount) + workerCount) % workerCount
        self.firstPort = first
        let count = first > high ? 0 : (high - first) / workerCount + 1
        self.capacity = count
        self.ring = (0..<count).map { UInt16($0) }
        self.head = 0
        self.freeCount = count
        self.allocated = Array(repeating: false, count: count)
        self.ignoredReleaseCount = 0
    }

    /// Ports available.
    @inlinable
    public var free: Int { freeCount }

    /// Ports handed out and not yet released.
    @inlinable
    public var inUse: Int { capacity - freeCount }

    /// Releases that were ignored: ports not allocated (double release) or not in this slice.
    @inlinable
    public var ignoredReleases: UInt64 { ignoredReleaseCount }

    /// Slice index of `port`, or nil when the port is not in this worker's slice.
    @inlinable
    func sliceIndex(of port: UInt16) -> Int? {
        let offset = Int(port) - firstPort
        guard offset >= 0 else { return nil }
        let index = offset / workerCount
        guard index < capacity, index * workerCount == offset else { return nil }
        return index
    }

    /// True when `port` belongs to this slice and is currently handed out.
    @inlinable
    public func isAllocated(_ port: UInt16) -> Bool {
        guard let i = sliceIndex(of: port) else { return false }
        return allocated[i]
    }

    /// Takes the port that has been free longest, or nil when none is free.
    @inlinable
    public mutating func allocate() -> UInt16? {
        guard freeCount > 0 else { return nil }
        let index = Int(ring[head])
        head += 1
        if head == capacity { head = 0 }
        freeCount -= 1
        allocated[index] = true
        return UInt16(truncatingIfNeeded: firstPort + index * workerCount)
    }

    /// Returns `port` to the tail of the free list. A port that is not allocated from this pool is
    /// ignored and counted in `ignoredReleases`.
    @inlinable
    public mutating func release(_ port: UInt16) {
        guard let i = sliceIndex(of: port), allocated[i] else {
            ignoredReleaseCount &+= 1
            return
        }
        allocated[i] = false
        var tail = head + freeCount
        if tail >= capacity { tail -= capacity }
        ring[tail] = UInt16(truncatingIfNeeded: i)
        freeCount += 1
    }
}
