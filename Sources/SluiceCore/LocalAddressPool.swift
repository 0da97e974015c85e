// The local addresses (LIPs) of one local_address_group, as seen by one worker: a PortPool per LIP
// over this worker's slice of the port range (docs/protocol.md §4).
//
// LIP choice is round-robin (dpvs `__get_laddr`), trying each LIP of the requested family once
// before giving up, so one exhausted LIP does not fail a connection while another has ports. A
// failure is counted in `exhausted` (dpvs `sa_miss`): the operator's signal to add LIPs or widen
// the range (pitfall 23). A LIP's ports are unique per LIP, not per (LIP, RS) as with dpvs's
// per-RS sub-pools: simpler, and with FIFO reuse the same port comes back only after the whole
// slice has cycled.
//
// Releases name the address; the lookup is a linear scan over the group's few LIPs, done once per
// connection, never per packet.

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
    /// UDP flows on these LIPs, and how many may be at once: half the ports, so that a flood of
    /// spoofed datagrams (each a flow holding a port until it expires: 30 s unanswered, 300 s answered
    /// by a server that answers anyone) leaves the other half to TCP.
    public var udpFlows = 0
    public let udpFlowLimit: Int

    /// Creates pools for `worker`'s slice of `range` on every address (duplicates are dropped).
    public init(addresses: [IPAddress], range: ClosedRange<UInt16>, worker: Int, workerCount: Int) {
        var seen = Set<IPAddress>()
        let unique = addresses.filter { seen.insert($0).inserted }
        self.addresses = unique
        self.pools = unique.map { _ in PortPool(range: range, worker: worker, workerCount: workerCount) }
        self.cursor = 0
        self.exhaustedCount = 0
        self.unknownReleaseCount = 0
        self.udpFlowLimit = pools.reduce(0) { $0 + $1.capacity } / Self.udpShareDivisor
    }

    /// The share of the ports (and of the connection table) UDP flows may hold: 1 / this.
    public static let udpShareDivisor = 2

    /// Allocation failures: every LIP of the requested family was out of ports, or there was none.
    @inlinable
    public var exhausted: UInt64 { exhaustedCount }

    /// Releases ignored because the address is not in this group, the port is not in this
    /// worker's slice, or it was not allocated (double release).
    @inlinable
    public var ignoredReleases: UInt64 {
        var total = unknownReleaseCount
        for pool in pools { total &+= pool.ignoredReleases }
        return total
    }

    /// Ports in use over all LIPs.
    @inlinable
    public var inUseTotal: Int {
        var total = 0
        for pool in pools { total += pool.inUse }
        return total
    }

    /// Ports free over all LIPs.
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

    /// Ports free on `address` (0 for an address not in the group).
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

    /// Takes a port from the next LIP of the requested family that has one (round-robin).
    /// - Returns: the LIP and port, or nil (counted in `exhausted`).
    @inlinable
    public mutating func allocate(v6: Bool) -> (address: IPAddress, port: UInt16)? {
        allocate(family: v6 ? 1 : 0)
    }

    /// Takes a port from the next LIP of either family that has one (round-robin).
    @inlinable
    public mutating func allocate() -> (address: IPAddress, port: UInt16)? {
        allocate(family: -1)
    }

    /// `family`: 0 IPv4, 1 IPv6, -1 either.
    @inlinable
    mutating func allocate(family: Int) -> (address: IPAddress, port: UInt16)? {
        let n = addresses.count
        var i = cursor
        for _ in 0..<n {
            if i >= n { i = 0 }
            if family < 0 || (addresses[i].isV6 ? 1 : 0) == family, let port = pools[i].allocate() {
                cursor = i + 1
                return (addresses[i], port)
            }
            i += 1
        }
        exhaustedCount &+= 1
        return nil
    }

    /// Returns a port taken by `allocate`. Unknown addresses and ports not allocated are ignored
    /// and counted in `ignoredReleases`.
    @inlinable
    public mutating func release(address: IPAddress, port: UInt16) {
        for i in addresses.indices where addresses[i] == address {
            pools[i].release(port)
            return
        }
        unknownReleaseCount &+= 1
    }
}
