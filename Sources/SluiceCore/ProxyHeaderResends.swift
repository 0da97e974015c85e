// PROXY headers that Sluice sent on its own (`send_on_connect`, docs/protocol.md §7) must reach the real
// server even if that segment is lost: the client of a server-first protocol sends nothing more until
// it hears the greeting, so no client retransmission would carry the header again. Each such header
// is kept here as the exact frame that went out (headers + PROXY header, at most `slotSize` bytes)
// and resent unchanged with exponential backoff until the real server acknowledges it — identical
// bytes, so a duplicate is harmless, and its TSval passes PAWS because the server's ts_recent does not
// move past a segment it has not acknowledged (RFC 7323 §4.3).
//
// The store is a small fixed array scanned at batch boundaries: entries live for about one round trip,
// so only a handful are ever active, and a full store costs a counted skip, never an allocation.

import SluicePacket

/// Frames of self-sent PROXY headers awaiting the real server's acknowledgement.
public struct ProxyHeaderResends {
    /// Bytes per stored frame: Ethernet + IPv6 + 60-byte TCP header + the longest header we write.
    public static let slotSize = 256
    /// First retransmission timeout, doubled after each resend (Linux's minimum RTO is 200 ms).
    public static let initialTimeoutMilliseconds: UInt64 = 250
    /// Resends before giving up (250 ms … 8 s: about 16 s in all, well inside SYN_RECV/ESTABLISHED).
    public static let maximumResends = 6

    @usableFromInline var bytes: [UInt8]
    @usableFromInline var lengths: [Int]
    @usableFromInline var sides: [Side]
    @usableFromInline var ids: [ConnectionID]
    /// The RS-leg sequence number where the header starts: with the id it tells a reused slot of the
    /// connection table from the connection the header belongs to.
    @usableFromInline var starts: [UInt32]
    @usableFromInline var deadlines: [UInt64]
    @usableFromInline var resends: [Int]
    @usableFromInline var active: Int
    public let capacity: Int

    public init(capacity: Int) {
        self.capacity = capacity
        bytes = Array(repeating: 0, count: capacity * Self.slotSize)
        lengths = Array(repeating: 0, count: capacity)
        sides = Array(repeating: .internal, count: capacity)
        ids = Array(repeating: ConnectionID(0), count: capacity)
        starts = Array(repeating: 0, count: capacity)
        deadlines = Array(repeating: 0, count: capacity)
        resends = Array(repeating: 0, count: capacity)
        active = 0
    }

    /// Entries awaiting an acknowledgement.
    public var count: Int { active }

    /// True when an entry for this connection and header start exists.
    @inlinable
    func contains(_ id: ConnectionID, start: UInt32) -> Bool {
        var i = 0
        while i < active {
            if ids[i] == id && starts[i] == start { return true }
            i &+= 1
        }
        return false
    }

    /// Keeps `frame[0 ..< length]` for resending. False when the store is full or the frame too long.
    @inlinable
    mutating func add(
        _ frame: Span<UInt8>, length: Int, side: Side, id: ConnectionID, start: UInt32, now: UInt64
    ) -> Bool {
        guard active < capacity, length > 0, length <= Self.slotSize, length <= frame.count else { return false }
        let base = active &* Self.slotSize
        var slot = bytes.mutableSpan
        slot.copyBytes(from: frame, sourceOffset: 0, to: base, count: length)
        lengths[active] = length
        sides[active] = side
        ids[active] = id
        starts[active] = start
        deadlines[active] = now &+ Self.initialTimeoutMilliseconds
        resends[active] = 0
        active &+= 1
        return true
    }

    /// Removes entry `index` (the last entry takes its place).
    @inlinable
    mutating func remove(at index: Int) {
        let last = active &- 1
        if index != last {
            let n = lengths[last]
            var all = bytes.mutableSpan
            all.moveBytes(from: last &* Self.slotSize, to: index &* Self.slotSize, count: n)
            lengths[index] = lengths[last]
            sides[index] = sides[last]
            ids[index] = ids[last]
            starts[index] = starts[last]
            deadlines[index] = deadlines[last]
            resends[index] = resends[last]
        }
        active = last
    }
}
