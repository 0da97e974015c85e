// Which authenticated datagrams of one peer are new (docs/sync.md "Replays"). A peer's run is named by
// its epoch (its start time) and numbers its datagrams from 1: a datagram of an older run, or one
// whose sequence number was already seen or is too far behind to tell, is a replay. A sliding window
// of the last 64 numbers accepts reordering within it, as IPsec's anti-replay window does (RFC 4303
// §3.4.3). A newer epoch is a restarted peer: the window starts again.

/// The anti-replay state of one peer.
public struct SyncReplayWindow: Sendable, Equatable {
    /// Sequence numbers the window remembers behind the highest.
    public static let width: UInt64 = 64

    public private(set) var epoch: UInt64 = 0
    public private(set) var highest: UInt64 = 0
    /// Bit i: `highest - i` was seen.
    var seen: UInt64 = 0

    public init() {}

    /// Accepts and records (`epoch`, `sequence`) when it is new; false for a replay.
    public mutating func accept(epoch: UInt64, sequence: UInt64) -> Bool {
        guard sequence > 0, epoch >= self.epoch else { return false }
        if epoch > self.epoch {
            self.epoch = epoch
            highest = sequence
            seen = 1
            return true
        }
        if sequence > highest {
            let shift = sequence - highest
            seen = shift >= Self.width ? 1 : seen << shift | 1
            highest = sequence
            return true
        }
        let behind = highest - sequence
        guard behind < Self.width, seen & (1 << behind) == 0 else { return false }
        seen |= 1 << behind
        return true
    }
}
