// The local addresses (LIPs) of one local_address_group, as seen by one worker: a PortPool per LIP
// over this worker's slice of the port range (docs/protocol.md §4).
//
// LIP choice is round-robin (dpvs `__get_laddr`), trying each LIP of the requested family once
// before giving up, so one LIP whose ports towards a server are taken does not fail a connection
// while another has some. Ports are unique per reply tuple (PortPool.swift): the search asks the
// caller whether a candidate's tuple is free, because only the connection table knows. A failure is
// counted in `exhausted` (dpvs `sa_miss`): the operator's signal to add LIPs, widen the range or add
// real servers (pitfall 23).
//
// Search and take are separate steps so that the data plane can test candidates against its table
// while reading the pool, then take the choice. Releases name the address; the lookup is a linear
// scan over the group's few LIPs, done once per connection, never per packet.

import SluicePacket

/// Usage of one local address, for the CLI and metrics.
public struct LocalAddressStatistics: Sendable, Hashable {
    public var address: IPAddress
    public var inUse: Int
    public var free: Int
    public var capacity: Int
}

/// One worker's port pools for the LIPs of a local-address group.
public struct LocalAddressPool: Sendable {
    /// The LIPs, in configuration order.
    public let addresses: [IPAddress]
    @usableFromInline var pools: [PortPool]
    /// Index of the LIP the next allocation tries first.
    @usableFromInline var cursor: Int
    @usableFromInline var exhaustedCount: UInt64
    @usableFromInline var unknownReleaseCount: UInt64

    /// Creates pools for `worker`'s slice of `range` on every address (duplicates are dropped).
    public init(addresses: [IPAddress], range: ClosedRange<UInt16>, worker: Int, workerCount: Int) {
        var seen = Set<IPAddress>()
        let unique = addresses.filter { seen.insert($0).inserted }
        self.addresses = unique
        self.pools = unique.map { _ in PortPool(range: range, worker: worker, workerCount: workerCount) }
        self.cursor = 0
        self.exhaustedCount = 0
        self.unknownReleaseCount = 0
    }

    /// Allocation failures: no LIP of the requested family had a port free towards the server.
    @inlinable
    public var exhausted: UInt64 { exhaustedCount }

    /// Releases ignored because the address is not in this group, the port is not in this
    /// worker's slice, or nothing was in use.
    @inlinable
    public var ignoredReleases: UInt64 {
        var total = unknownReleaseCount
        for pool in pools { total &+= pool.ignoredReleases }
        return total
    }

    /// Ports in use over all LIPs (one per connection).
    @inlinable
    public var inUseTotal: Int {
        var total = 0
        for pool in pools { total += pool.inUse }
        return total
    }

    /// Ports free towards any one real server, at least, over all LIPs.
    @inlinable
    public var freeTotal: Int {
        var total = 0
        for pool in pools { total += pool.free }
        return total
    }

    /// Ports in use on `address` (0 for an address not in the group).
    public func inUse(_ address: IPAddress) -> Int {
        guard let i = addresses.firstIndex(of: address) else { return 0 }
        return pools[i].inUse
    }

    /// Ports free towards any one real server on `address`, at least (0 for an address not in the group).
    public func free(_ address: IPAddress) -> Int {
        guard let i = addresses.firstIndex(of: address) else { return 0 }
        return pools[i].free
    }

    /// Per-address usage, in configuration order.
    public var statistics: [LocalAddressStatistics] {
        addresses.indices.map {
            LocalAddressStatistics(
                address: addresses[$0], inUse: pools[$0].inUse, free: pools[$0].free, capacity: pools[$0].capacity)
        }
    }

    /// Most candidates tried on one LIP for one connection: the search is bounded however full the
    /// ports towards one server are (conntrack's SNAT bounds its search the same way).
    public static let probeLimit = 64

    /// Finds a local port towards one real server without taking it: the LIPs of the requested family
    /// in round-robin order from the cursor, on each up to `probeLimit` candidates from its cursor.
    /// - Parameter isFree: whether the reply tuple (real server → LIP:port) is unused.
    /// - Returns: the LIP's index and the candidate's step, for `take(_:)`; nil when none was free.
    @inlinable
    public func search(v6: Bool, isFree: (IPAddress, UInt16) -> Bool) -> LocalPortChoice? {
        let n = addresses.count
        var i = cursor
        for _ in 0..<n {
            if i >= n { i = 0 }
            if addresses[i].isV6 == v6 {
                for step in 0..<min(Self.probeLimit, pools[i].capacity) {
                    if let port = pools[i].candidate(step), isFree(addresses[i], port) {
                        return LocalPortChoice(index: i, step: step, address: addresses[i], port: port)
                    }
                }
            }
            i += 1
        }
        return nil
    }

    /// Takes the port `search` chose; the next search starts on the following LIP.
    @inlinable
    public mutating func take(_ choice: LocalPortChoice) {
        pools[choice.index].take(choice.step)
        cursor = choice.index + 1
    }

    /// Counts a search that found nothing and moves every LIP of the family past the candidates it
    /// refused, so the next search tries other ports.
    @inlinable
    public mutating func countExhausted(v6: Bool) {
        for i in addresses.indices where addresses[i].isV6 == v6 {
            pools[i].skip(min(Self.probeLimit, pools[i].capacity))
        }
        exhaustedCount &+= 1
    }

    /// Returns a port taken by `take`. Unknown addresses and ports outside the slice are ignored and
    /// counted in `ignoredReleases`.
    @inlinable
    public mutating func release(address: IPAddress, port: UInt16) {
        for i in addresses.indices where addresses[i] == address {
            pools[i].release(port)
            return
        }
        unknownReleaseCount &+= 1
    }
}
