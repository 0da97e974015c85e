// The outcome of TOA.insert, so the data plane can count each case (docs/design.md §4.7).

/// What `TOA.insert` did to a segment.
public enum TOAInsertResult: Sendable, Equatable {
    /// The option was inserted; no other option was removed.
    case inserted
    /// The option was inserted after removing `removedBytes` bytes of other options (padding
    /// included) to make room; see `TOA.insert` for the order in which options are given up.
    case pruned(removedBytes: Int)
    /// No room even after pruning (TCP header limit, MTU or buffer): the frame is unchanged.
    case noRoom
    /// The frame does not match `info` (not TCP, lengths inconsistent, malformed options): the
    /// frame is unchanged.
    case malformed
}
