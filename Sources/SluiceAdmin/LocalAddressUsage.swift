// LIP port usage, like dpvs's `ipvsadm -G` and `dpip addr show -s` (sa_used, sa_free, sa_miss).

/// Ports of one local address, over all workers.
public struct LocalAddressUsage: Codable, Sendable, Equatable {
    public var address: String
    /// The local address group it belongs to.
    public var group: String
    public var portsUsed: UInt64
    public var portsFree: UInt64
    /// Allocations that found no free port in the address's pool (counted per pool).
    public var allocationFailures: UInt64

    public init(address: String, group: String, portsUsed: UInt64, portsFree: UInt64, allocationFailures: UInt64) {
        self.address = address
        self.group = group
        self.portsUsed = portsUsed
        self.portsFree = portsFree
        self.allocationFailures = allocationFailures
    }
}
