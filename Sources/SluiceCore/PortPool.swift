// The local ports of one LIP that one worker may hand out (docs/protocol.md §4).
//
// Partition: worker k of n owns the ports p of the range with p % n == k (`owner(ofPort:workerCount:)`),
// so the owner of a reply is computable from its destination port alone, which is what the XDP
// program and NIC steering rules use to bring replies back to the worker holding the connection.
// dpvs masks with a power of two; a modulus gives the same split for any worker count.
//
// Uniqueness is per reply tuple, as with conntrack's SNAT: a port need only be unique per (LIP,
// protocol, real server address, real server port), because that tuple with the port is what finds
// the connection again. So the pool keeps no free list; it proposes candidates from a cursor that
// walks the slice in order, and the data plane takes the first candidate whose reply tuple is not in
// its connection table (`Dataplane.allocateLocalPort`). One service or protocol can never take
// another's ports, and capacity grows with the number of real servers.
//
// The cursor keeps the property the FIFO ring had: a port comes up again only after every other port
// of the slice has been proposed, so a reused LIP:lport towards the same server is the one used
// longest ago; with clock-driven ISNs (SequenceNumberGenerator) that keeps it from hitting a live
// TIME_WAIT socket on the server (pitfalls 5, 6, 23). Candidates still in use towards the same server
// are the only ones skipped, and the number of probes per allocation is bounded.

/// One worker's slice of the local port range of one local address.
public struct PortPool: Sendable {
    /// The configured range of all workers.
    public let range: ClosedRange<UInt16>
    /// This worker's index.
    public let worker: Int
    /// Number of workers sharing the range.
    public let workerCount: Int
    /// Smallest port of this worker's slice (meaningless when the slice is empty).
    @usableFromInline let firstPort: Int
    /// Ports in this worker's slice: how many connections may go to any one (protocol, real server).
    public let capacity: Int
    /// Slice index of the next candidate.
    @usableFromInline var cursor: Int
    /// Connections holding a port of this slice, whatever their server.
    @usableFromInline var inUseCount: Int
    @usableFromInline var ignoredReleaseCount: UInt64

    /// The worker that owns `port`: `port % workerCount`.
    @inlinable
    public static func owner(ofPort port: UInt16, workerCount: Int) -> Int {
        Int(port) % workerCount
    }

    /// Creates the pool of `worker`'s slice of `range`; candidates start at its lowest port.
    public init(range: ClosedRange<UInt16>, worker: Int, workerCount: Int) {
        precondition(workerCount >= 1 && worker >= 0 && worker < workerCount, "worker index out of range")
        self.range = range
        self.worker = worker
        self.workerCount = workerCount
        let low = Int(range.lowerBound)
        let high = Int(range.upperBound)
        let first = low + ((worker - low % workerCount) + workerCount) % workerCount
        self.firstPort = first
        self.capacity = first > high ? 0 : (high - first) / workerCount + 1
        self.cursor = 0
        self.inUseCount = 0
        self.ignoredReleaseCount = 0
    }

    /// Connections holding a port of this slice.
    @inlinable
    public var inUse: Int { inUseCount }

    /// Ports free towards any one real server, at least: the slice less every port in use on this
    /// LIP (a port in use towards one server is still free towards the others).
    @inlinable
    public var free: Int { max(capacity - inUseCount, 0) }

    /// Releases that were ignored: ports not in this slice, or more releases than allocations.
    @inlinable
    public var ignoredReleases: UInt64 { ignoredReleaseCount }

    /// True when `port` belongs to this worker's slice.
    @inlinable
    public func contains(_ port: UInt16) -> Bool {
        let offset = Int(port) - firstPort
        guard offset >= 0 else { return false }
        let index = offset / workerCount
        return index < capacity && index * workerCount == offset
    }

    /// The candidate `step` places after the cursor (nil when the slice is empty).
    @inlinable
    public func candidate(_ step: Int) -> UInt16? {
        guard capacity > 0 else { return nil }
        return UInt16(truncatingIfNeeded: firstPort + (cursor + step) % capacity * workerCount)
    }

    /// Takes the candidate `step` places after the cursor; the cursor moves past it.
    @inlinable
    public mutating func take(_ step: Int) {
        cursor = (cursor + step + 1) % max(capacity, 1)
        inUseCount += 1
    }

    /// Moves the cursor past `steps` candidates that were all refused, so the next search starts on
    /// ports not yet tried.
    @inlinable
    public mutating func skip(_ steps: Int) {
        cursor = (cursor + steps) % max(capacity, 1)
    }

    /// Gives back a port taken by `take`. A port outside this slice, or a release with nothing in
    /// use, is ignored and counted in `ignoredReleases`.
    @inlinable
    public mutating func release(_ port: UInt16) {
        guard contains(port), inUseCount > 0 else {
            ignoredReleaseCount &+= 1
            return
        }
        inUseCount -= 1
    }
}
