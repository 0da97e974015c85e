// The result of a local-port search (LocalAddressPool.search): which LIP, which candidate, so that
// taking it afterwards needs no second search.

import SluicePacket

/// A port `LocalAddressPool.search` found free towards a server.
public struct LocalPortChoice: Sendable, Equatable {
    /// Index of the LIP in the group.
    public var index: Int
    /// Candidate step on that LIP's pool.
    public var step: Int
    public var address: IPAddress
    public var port: UInt16

    @inlinable
    public init(index: Int, step: Int, address: IPAddress, port: UInt16) {
        self.index = index
        self.step = step
        self.address = address
        self.port = port
    }
}
