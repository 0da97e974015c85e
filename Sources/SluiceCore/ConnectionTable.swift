// One worker's connection table (docs/protocol.md §5). Like dpvs (`__dp_vs_conn_hash`) every connection
// is indexed twice, under its inbound tuple (CIP:cport → VIP:vport) and its outbound tuple
// (RIP:rport → LIP:lport), so one lookup with the packet's own tuple finds the entry and says which
// way the packet travels.
//
// Shape, chosen for a fixed memory budget and no allocation after init:
// - `entries`: a preallocated array of `Connection` values (128 B each); a `ConnectionID` is an
//   index into it. Free entries form a LIFO list threaded through `freeNext` (recently freed
//   entries are still warm in cache); live entries carry the marker `liveMarker` there.
// - `slots`: an open-addressing index with linear probing, one `UInt64` per slot: the high 32 bits
//   are the key's hash, the low 32 bits are `(id << 1 | direction) + 1` (0 = empty). The stored hash
//   filters almost every non-matching slot without touching the 128-byte entry, and it also gives
//   each slot's home position, so deletion can use backward shifting (no tombstones, so lookups do
//   not slow down as connections churn). The slot count is a power of two holding 2·capacity keys
//   at a load factor of at most 0.6 (0.5 at the default 2^20 capacity).
// - The hash is SipHash-2-4 keyed with the worker's secret, so a client cannot choose tuples that
//   pile up in one probe run (hash flooding); IPv4 tuples hash two words, IPv6 tuples five.
// Chained buckets (dpvs's list heads) were rejected: every chain step is a cache miss on a 128-byte
// entry, and per-entry `next` links for both keys cost as much memory as the probe index.
//
// Memory at capacity 2^20: entries 128 MiB + slots 32 MiB + free links 4 MiB ≈ 164 bytes per
// connection (`bytesPerConnection`).
//
// Key fields of an entry (addresses, ports, transport) must not be changed through the subscript:
// the index would no longer find the entry. Remove and re-insert instead.

import SluicePacket

/// A fixed-capacity connection table indexed by both tuples of each connection.
public struct ConnectionTable: ~Copyable {
    public typealias ConnectionID = SluiceCore.ConnectionID
    public typealias FlowDirection = SluiceCore.FlowDirection

    /// Marks a live entry in `freeNext`.
    @usableFromInline static var liveMarker: Int32 { -2 }

    @usableFromInline var entries: [Connection]
    /// Next free entry (-1 ends the list), or `liveMarker` for a live entry.
    @usableFromInline var freeNext: [Int32]
    @usableFromInline var freeHead: Int32
    @usableFromInline var slots: [UInt64]
    @usableFromInline let slotMask: Int
    @usableFromInline let k0: UInt64
    @usableFromInline let k1: UInt64
    @usableFromInline var liveCount: Int

    /// Maximum number of connections.
    public let capacity: Int

    /// Number of live connections.
    @inlinable
    public var count: Int { liveCount }

    /// Creates an empty table; all memory is allocated here.
    /// - Parameters:
    ///   - capacity: maximum number of connections (1...2^28).
    ///   - seed: 128-bit secret keying the bucket hash.
    public init(capacity: Int, seed: (UInt64, UInt64)) {
        precondition(capacity >= 1 && capacity <= 1 << 28, "connection capacity out of range")
        self.capacity = capacity
        let keys = 2 * capacity
        // Load factor ≤ 0.6: slots ≥ keys · 5/3, rounded up to a power of two.
        var slotCount = 8
        while slotCount * 3 < keys * 5 { slotCount <<= 1 }
        slotMask = slotCount - 1
        slots = Array(repeating: 0, count: slotCount)
        entries = Array(repeating: Connection.empty, count: capacity)
        freeNext = (0..<capacity).map { $0 + 1 < capacity ? Int32($0 + 1) : -1 }
        freeHead = 0
        k0 = seed.0
        k1 = seed.1
        liveCount = 0
    }

    /// Total bytes held by the table's arrays.
    public var memoryBytes: Int {
        entries.count * MemoryLayout<Connection>.stride + freeNext.count * MemoryLayout<Int32>.stride
            + slots.count * MemoryLayout<UInt64>.stride
    }

    /// `memoryBytes / capacity`.
    public var bytesPerConnection: Double { Double(memoryBytes) / Double(capacity) }

    /// Number of index slots (a power of two).
    public var slotCount: Int { slots.count }

    // MARK: Hashing

    /// Keyed 32-bit hash of a tuple. Both addresses, both ports, the protocol and the two address
    /// families all enter the hash.
    @inlinable
    func hash(_ key: FlowKey) -> UInt32 {
        let families: UInt64 = (key.source.isV6 ? 1 : 0) | (key.destination.isV6 ? 2 : 0)
        let tail =
            UInt64(key.sourcePort) << 48 | UInt64(key.destinationPort) << 32 | UInt64(key.transport) << 8 | families
        let h: UInt64
        if families == 0 {
            h = SipHash24.hash(k0: k0, k1: k1, key.source.low << 32 | key.destination.low & 0xFFFF_FFFF, tail)
        } else {
            h = SipHash24.hash(
                k0: k0, k1: k1, key.source.high, key.source.low, key.destination.high, key.destination.low, tail)
        }
        return UInt32(truncatingIfNeeded: h ^ (h >> 32))
    }

    /// True when entry `index`'s key for `direction` equals `key`.
    @inlinable
    func matches(_ index: Int, _ direction: Int, _ key: FlowKey) -> Bool {
        if direction == 0 {
            return entries[index].clientPort == key.sourcePort && entries[index].vport == key.destinationPort
                && entries[index].transport == key.transport && entries[index].client == key.source
                && entries[index].vip == key.destination
        }
        return entries[index].realPort == key.sourcePort && entries[index].localPort == key.destinationPort
            && entries[index].transport == key.transport && entries[index].real == key.source
            && entries[index].local == key.destination
    }

    /// Finds the slot holding `key` (whose hash is `h`).
    @inlinable
    func findSlot(_ key: FlowKey, hash h: UInt32) -> Int? {
        var i = Int(h) & slotMask
        while true {
            let s = slots[i]
            if s == 0 { return nil }
            if UInt32(truncatingIfNeeded: s >> 32) == h {
                let ref = Int(UInt32(truncatingIfNeeded: s)) - 1
                if matches(ref >> 1, ref & 1, key) { return i }
            }
            i = (i + 1) & slotMask
        }
    }

    // MARK: Lookup

    /// Looks up a packet's own tuple: a client→VIP tuple matches a connection's inbound key, an
    /// RS→LIP tuple its outbound key.
    /// - Returns: the connection and the direction the packet travels, or nil.
    @inlinable
    public func lookup(_ key: FlowKey) -> (id: ConnectionID, direction: FlowDirection)? {
        guard let slot = findSlot(key, hash: hash(key)) else { return nil }
        let ref = Int32(truncatingIfNeeded: UInt32(truncatingIfNeeded: slots[slot])) - 1
        return (ref >> 1, (ref & 1) == 0 ? .inbound : .outbound)
    }

    /// True when `id` names a live connection.
    @inlinable
    public func isLive(_ id: ConnectionID) -> Bool {
        id >= 0 && Int(id) < capacity && freeNext[Int(id)] == Self.liveMarker
    }

    /// The entry `id`. `id` must be live (as returned by `lookup` or `insert`); key fields must not
    /// be modified through this accessor.
    @inlinable
    public subscript(id: ConnectionID) -> Connection {
        _read { yield entries[Int(id)] }
        _modify { yield &entries[Int(id)] }
    }

    // MARK: Insert and remove

    @inlinable
    mutating func place(hash h: UInt32, ref: Int) {
        var i = Int(h) & slotMask
        while slots[i] != 0 { i = (i + 1) & slotMask }
        slots[i] = UInt64(h) << 32 | UInt64(ref + 1)
    }

    /// Inserts a connection under both of its keys.
    /// - Returns: its id, or nil when the table is full, when either key is already present, or
    ///   when the two keys are equal (a degenerate tuple).
    @inlinable
    public mutating func insert(_ connection: Connection) -> ConnectionID? {
        guard freeHead >= 0 else { return nil }
        let inboundKey = connection.inboundKey
        let outboundKey = connection.outboundKey
        guard inboundKey != outboundKey else { return nil }
        let hin = hash(inboundKey)
        let hout = hash(outboundKey)
        if findSlot(inboundKey, hash: hin) != nil || findSlot(outboundKey, hash: hout) != nil { return nil }
        let id = freeHead
        let index = Int(id)
        freeHead = freeNext[index]
        freeNext[index] = Self.liveMarker
        entries[index] = connection
        place(hash: hin, ref: index << 1)
        place(hash: hout, ref: index << 1 | 1)
        liveCount += 1
        return id
    }

    /// Empties slot `hole` and shifts later members of its probe run back (linear-probing
    /// deletion without tombstones).
    @inlinable
    mutating func erase(slot hole: Int) {
        var i = hole
        var j = hole
        while true {
            j = (j + 1) & slotMask
            let s = slots[j]
            if s == 0 { break }
            let home = Int(UInt32(truncatingIfNeeded: s >> 32)) & slotMask
            // The member at j may move to i unless its home lies cyclically in (i, j].
            if (j &- home) & slotMask >= (j &- i) & slotMask {
                slots[i] = s
                i = j
            }
        }
        slots[i] = 0
    }

    @inlinable
    mutating func unindex(hash h: UInt32, ref: Int) {
        let wanted = UInt64(h) << 32 | UInt64(ref + 1)
        var i = Int(h) & slotMask
        while slots[i] != 0 {
            if slots[i] == wanted {
                erase(slot: i)
                return
            }
            i = (i + 1) & slotMask
        }
    }

    /// Removes a connection and frees its entry.
    /// - Returns: false (and does nothing) when `id` is not live.
    @inlinable
    @discardableResult
    public mutating func remove(_ id: ConnectionID) -> Bool {
        guard isLive(id) else { return false }
        let index = Int(id)
        unindex(hash: hash(entries[index].inboundKey), ref: index << 1)
        unindex(hash: hash(entries[index].outboundKey), ref: index << 1 | 1)
        entries[index] = Connection.empty
        freeNext[index] = freeHead
        freeHead = id
        liveCount -= 1
        return true
    }

    /// Removes every connection (not for the hot path: touches the whole index).
    public mutating func removeAll() {
        for i in slots.indices { slots[i] = 0 }
        for i in 0..<capacity {
            entries[i] = Connection.empty
            freeNext[i] = i + 1 < capacity ? Int32(i + 1) : -1
        }
        freeHead = 0
        liveCount = 0
    }

    /// Calls `body` with every live connection, in id order (for listings and reloads, not the hot path).
    public func forEach(_ body: (ConnectionID, Connection) throws -> Void) rethrows {
        for i in 0..<capacity where freeNext[i] == Self.liveMarker {
            try body(Int32(i), entries[i])
        }
    }
}
