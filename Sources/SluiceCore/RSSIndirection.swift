// The second half of receive-side scaling: a NIC does not use the Toeplitz hash as a queue number
// but looks it up in its indirection table ("RETA"), whose entries name RX queues. Together with
// `ToeplitzHash` this predicts the RX queue of a flow from its addresses and ports.
//
// Indexing: NICs take the low bits of the hash (ixgbe the low 7 bits for its 128 entries, mlx5 and
// ice as many as their table size needs), and every table a driver reports through ethtool has a
// power-of-two size, so `hash % count` is the NIC's index. For those sizes `queue(for:)` masks
// rather than divides; a table of any other size (one built by hand) falls back to the remainder,
// which is the natural generalisation of "the low bits". The default table copies the kernel's
// `ethtool_rxfh_indir_default`: entry i names queue i % queues.

/// A NIC's RSS indirection table: hash → RX queue.
public struct RSSIndirection: Sendable, Equatable {
    /// The table size most drivers start with (and `ethtool -X … equal N` keeps).
    public static let defaultSize = 128

    /// The RX queue of each table entry.
    public let entries: [UInt32]

    /// `entries.count - 1` when the count is a power of two (the index is then `hash & mask`), else 0.
    @usableFromInline let mask: UInt32

    /// Number of entries as a divisor for tables that are not a power of two.
    @usableFromInline let count: UInt32

    /// A table with the given entries; nil when it is empty or larger than a hash can index.
    public init?(entries: [UInt32]) {
        guard !entries.isEmpty, entries.count <= UInt32.max else { return nil }
        self.entries = entries
        count = UInt32(entries.count)
        mask = entries.count.nonzeroBitCount == 1 ? count - 1 : 0
    }

    /// The kernel's default spread of `queues` RX queues over `size` entries: entry i → i % queues.
    /// - Precondition: `queues` and `size` are positive and `queues` fits a `UInt32`.
    public static func roundRobin(queues: Int, size: Int = defaultSize) -> RSSIndirection {
        precondition(queues > 0 && queues <= UInt32.max && size > 0, "RSS table needs queues and entries")
        let entries = (0..<size).map { UInt32($0 % queues) }
        guard let table = RSSIndirection(entries: entries) else { preconditionFailure("RSS table too large") }
        return table
    }

    /// The RX queues the table needs: its highest entry + 1.
    public var queueCount: Int { Int(entries.max() ?? 0) + 1 }

    /// The table index the NIC uses for `hash`.
    @inlinable
    public func index(for hash: UInt32) -> Int {
        // A one-entry table has mask 0 too; every hash maps to entry 0 either way.
        Int(mask != 0 ? hash & mask : hash % count)
    }

    /// The RX queue a packet with RSS hash `hash` arrives on.
    @inlinable
    public func queue(for hash: UInt32) -> UInt32 {
        entries[index(for: hash)]
    }
}
