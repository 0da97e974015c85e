// One worker's connection table (docs/protocol.md §5). A packet's own tuple finds its connection and
// says which way the packet travels: a client's tuple (CIP:cport → VIP:vport) through a hashed index,
// a real server's reply (RIP:rport → LIP:lport) through a direct array indexed by LIP and local port.
//
// Shape, chosen for a fixed memory budget and no allocation after init:
// - `entries`: a preallocated array of `Connection` values (112 B each); a `ConnectionID` is an index
//   into it.
// - `links`: one Int32 per entry, used twice. A free entry holds `-2 - next free entry` (≤ -1), so
//   free entries form a LIFO list (recently freed entries are still warm in cache). A live entry holds
//   `1 + the next entry of its reply chain` (0 ends it, so ≥ 0): `isLive` is the sign.
// - `slots`: the hashed index, open addressing with linear probing, one `UInt64` per slot: the high
//   32 bits are the key's hash, the low 32 bits `(id << 1 | direction) + 1` (0 = empty). The stored
//   hash filters almost every non-matching slot without touching the entry and gives each slot's home,
//   so deletion shifts later members back (no tombstones: lookups do not slow down as connections
//   churn). It holds every inbound key, and the outbound keys the reply index cannot (below). The slot
//   count is capacity · 5/3, not rounded to a power of two (a home is `hash · count >> 32`), so the
//   load stays ≤ 0.6 with inbound keys alone; outbound keys may add up to a load of 0.8, never more
//   (`insert` refuses).
// - The hash is SipHash-2-4 keyed with the worker's secret, so a client cannot choose tuples that
//   pile up in one probe run (hash flooding); IPv4 tuples hash two words, IPv6 tuples five.
// - The reply index. A local port is taken from the worker's slice of its LIP's range, and is unique
//   per reply tuple only (PortPool.swift): connections to different real servers may share LIP:lport.
//   So `replyHeads[LIP slot · portsPerAddress + lport / workerCount]` heads a chain, through `links`,
//   of the connections holding that LIP:lport, usually one. A reply is found by the LIP's slot, one
//   array read and a comparison of RIP, rport and protocol: no hash is computed, and the attacker
//   controls nothing here (LIPs and local ports are ours). Every entry of a worker has lport ≡ worker
//   (mod workerCount): its own ports come from its slice, and a peer's entries are installed in the
//   worker owning their port (SyncDataPlane.install), so the array covers only this worker's ports of
//   all 65 536. An entry whose port is not of this worker, or whose LIP finds no room in the registry,
//   is indexed under its outbound key in `slots` instead, and found there.
// - The LIP registry: up to `maximumLocalAddresses` addresses, each with a slot, a count of chained
//   entries and a pinned mark. The data plane pins the LIPs of its configuration at start and at every
//   reload (`pinLocalAddresses`), so a connection it opens never waits for a registration; a peer's LIP
//   (sync) is registered by its first entry, the one time this table allocates after init (a block of
//   `replyHeads`). A LIP a reload removed stays registered while entries use it, so their replies are
//   still found; its slot is recycled when the last one goes. Address → slot is a small open-addressing
//   map (`localMap`) probed with the address's unkeyed mix: a packet's destination costs one or two
//   probes, whatever it is.
// Chained buckets for the client index (dpvs's list heads) were rejected: every chain step would be a
// cache miss on an entry an attacker can make long. The reply chains are ours and short.
//
// Memory at capacity 10^6 with 17 LIPs, one worker: entries 112 B + links 4 B + slots 13.3 B
// (1 666 667 × 8 B) + reply heads 4.5 B (17 × 65 536 × 4 B) ≈ 134 B per connection
// (`bytesPerConnection`); the data plane adds its timer wheel (TimerWheel.swift, 8 B).
//
// Key fields of an entry (addresses, ports, transport) must not be changed through the subscript:
// the indexes would no longer find the entry. Remove and re-insert instead.

import SluicePacket

/// A fixed-capacity connection table indexed by both tuples of each connection.
public struct ConnectionTable: ~Copyable {
    public typealias ConnectionID = SluiceCore.ConnectionID
    public typealias FlowDirection = SluiceCore.FlowDirection

    /// LIPs the reply index can hold at once (the configuration's and the peers').
    public static let maximumLocalAddresses = 1024
    /// Slots of `localMap`: four per registry slot, a power of two.
    @usableFromInline static var localMapSize: Int { 4096 }

    @usableFromInline var entries: [Connection]
    /// Free list (≤ -1) or reply chain (≥ 0) per entry; see the top of the file.
    @usableFromInline var links: [Int32]
    @usableFromInline var freeHead: Int32
    @usableFromInline var slots: [UInt64]
    /// Number of index slots (not a power of two).
    @usableFromInline let slotTotal: Int
    /// Keys held in `slots`, and the most it may hold (load 0.8).
    @usableFromInline var hashedCount: Int
    @usableFromInline let hashedLimit: Int
    @usableFromInline let k0: UInt64
    @usableFromInline let k1: UInt64
    @usableFromInline var liveCount: Int

    /// Local ports of this worker: p with p % portStride == portPhase.
    @usableFromInline let portStride: Int
    @usableFromInline let portPhase: Int
    /// Reply-index entries per LIP: this worker's ports among 0...65535.
    @usableFromInline let portsPerAddress: Int
    /// `id + 1` of the first entry of each (LIP slot, port) chain; 0 = none.
    @usableFromInline var replyHeads: [Int32]
    /// Registry, by LIP slot: address, chained entries, pinned by the configuration.
    @usableFromInline var localAddresses: [IPAddress]
    @usableFromInline var localUsers: [Int32]
    @usableFromInline var localPinned: [Bool]
    /// Registry slots whose LIP was dropped, for reuse (their chains are empty).
    @usableFromInline var localFreeSlots: [Int32]
    /// Address → `LIP slot + 1` (0 = empty), linear probing from the address's mix.
    @usableFromInline var localMap: [UInt16]
    @usableFromInline var localCount: Int

    /// Maximum number of connections.
    public let capacity: Int

    /// Number of live connections.
    @inlinable
    public var count: Int { liveCount }

    /// Creates an empty table; all memory is allocated here, but for the reply index of LIPs first seen
    /// later (see `pinLocalAddresses`).
    /// - Parameters:
    ///   - capacity: maximum number of connections (1...2^28).
    ///   - seed: 128-bit secret keying the bucket hash.
    ///   - worker, workerCount: the local ports this table's entries hold are those p with
    ///     p % workerCount == worker (PortPool's slices); others are accepted, in the hashed index.
    public init(capacity: Int, seed: (UInt64, UInt64), worker: Int = 0, workerCount: Int = 1) {
        precondition(capacity >= 1 && capacity <= 1 << 28, "connection capacity out of range")
        precondition(workerCount >= 1 && worker >= 0 && worker < workerCount, "worker index out of range")
        self.capacity = capacity
        // Load factor ≤ 0.6 with one key per connection: slots ≥ capacity · 5/3.
        let slotCount = max(8, (capacity * 5 + 2) / 3)
        slotTotal = slotCount
        hashedLimit = slotCount * 4 / 5
        hashedCount = 0
        slots = Array(repeating: 0, count: slotCount)
        entries = Array(repeating: Connection.empty, count: capacity)
        links = (0..<capacity).map { Int32(-2 - ($0 + 1 < capacity ? $0 + 1 : -1)) }
        freeHead = 0
        k0 = seed.0
        k1 = seed.1
        liveCount = 0
        portStride = workerCount
        portPhase = worker
        portsPerAddress = (65_536 - worker + workerCount - 1) / workerCount
        replyHeads = []
        localAddresses = []
        localUsers = []
        localPinned = []
        localFreeSlots = []
        localMap = Array(repeating: 0, count: Self.localMapSize)
        localCount = 0
    }

    /// Total bytes held by the table's arrays.
    public var memoryBytes: Int {
        entries.count * MemoryLayout<Connection>.stride + links.count * MemoryLayout<Int32>.stride
            + slots.count * MemoryLayout<UInt64>.stride + replyHeads.count * MemoryLayout<Int32>.stride
            + localMap.count * MemoryLayout<UInt16>.stride + localAddresses.count * MemoryLayout<IPAddress>.stride
    }

    /// `memoryBytes / capacity`.
    public var bytesPerConnection: Double { Double(memoryBytes) / Double(capacity) }

    /// Number of index slots.
    public var slotCount: Int { slotTotal }

    /// Number of LIPs in the reply index.
    public var localAddressCount: Int { localCount }

    /// Keys in the hashed index: one per connection, plus the outbound keys of entries the reply index
    /// does not hold.
    public var hashedKeyCount: Int { hashedCount }

    // MARK: Hashing

    /// Keyed 32-bit hash of a tuple. Both addresses, both ports, the protocol and the two address
    /// families all enter the hash.
    @inlinable @inline(__always)
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

    /// The home slot of hash `h`: `h · slotTotal / 2^32`.
    @inlinable @inline(__always)
    func home(_ h: UInt32) -> Int {
        Int(truncatingIfNeeded: (UInt64(h) &* UInt64(slotTotal)) >> 32)
    }

    /// The slot after `i`, wrapping.
    @inlinable @inline(__always)
    func following(_ i: Int) -> Int {
        let j = i &+ 1
        return j == slotTotal ? 0 : j
    }

    /// True when entry `index`'s key for `direction` equals `key`.
    @inlinable
    func matches(_ index: Int, _ direction: Int, _ key: FlowKey) -> Bool {
        let families = entries[index].kind & (Connection.outerV6 | Connection.innerV6)
        if direction == 0 {
            return entries[index].clientPort == key.sourcePort && entries[index].vport == key.destinationPort
                && entries[index].kind & Connection.transportMask == key.transport
                && entries[index].clientLow == key.source.low
                && entries[index].vipLow == key.destination.low && entries[index].clientHigh == key.source.high
                && entries[index].vipHigh == key.destination.high
                && (families & Connection.outerV6 != 0) == key.source.isV6 && key.destination.isV6 == key.source.isV6
        }
        return entries[index].realPort == key.sourcePort && entries[index].localPort == key.destinationPort
            && entries[index].kind & Connection.transportMask == key.transport
            && entries[index].realLow == key.source.low
            && entries[index].localLow == key.destination.low && entries[index].realHigh == key.source.high
            && entries[index].localHigh == key.destination.high
            && (families & Connection.innerV6 != 0) == key.source.isV6 && key.destination.isV6 == key.source.isV6
    }

    /// Finds the slot holding `key` (whose hash is `h`).
    @inlinable @inline(__always)
    func findSlot(_ key: FlowKey, hash h: UInt32) -> Int? {
        var i = home(h)
        while true {
            let s = slots[i]
            if s == 0 { return nil }
            if UInt32(truncatingIfNeeded: s >> 32) == h {
                let ref = Int(UInt32(truncatingIfNeeded: s)) - 1
                if matches(ref >> 1, ref & 1, key) { return i }
            }
            i = following(i)
        }
    }

    // MARK: The LIP registry

    /// The map position `address` starts probing at: one multiply (Fibonacci hashing), because every
    /// packet's destination is probed. The family is left out; it only costs a collision.
    @inlinable @inline(__always)
    static func mapStart(_ address: IPAddress) -> Int {
        Int(truncatingIfNeeded: ((address.low ^ address.high) &* 0x9E37_79B9_7F4A_7C15) >> 52)  // 12 bits
    }

    /// The registry slot of `address`, or -1.
    @inlinable @inline(__always)
    func localSlot(_ address: IPAddress) -> Int {
        var i = Self.mapStart(address)
        while true {
            let v = Int(localMap[i])
            if v == 0 { return -1 }
            if localAddresses[v &- 1] == address { return v &- 1 }
            i = (i &+ 1) & (Self.localMapSize &- 1)
        }
    }

    /// Registers `address`; -1 when the registry is full. Allocates a block of the reply index unless
    /// a dropped LIP's slot is free.
    @usableFromInline
    mutating func register(_ address: IPAddress) -> Int {
        let existing = localSlot(address)
        if existing >= 0 { return existing }
        let slot: Int
        if let free = localFreeSlots.popLast() {
            slot = Int(free)
            localAddresses[slot] = address
            localUsers[slot] = 0
            localPinned[slot] = false
        } else {
            guard localAddresses.count < Self.maximumLocalAddresses else { return -1 }
            slot = localAddresses.count
            localAddresses.append(address)
            localUsers.append(0)
            localPinned.append(false)
            replyHeads.append(contentsOf: repeatElement(0, count: portsPerAddress))
        }
        var i = Self.mapStart(address)
        while localMap[i] != 0 { i = (i + 1) & (Self.localMapSize - 1) }
        localMap[i] = UInt16(slot + 1)
        localCount += 1
        return slot
    }

    /// Drops registry slot `slot` (no entry uses it, not pinned): out of the map (shifting later
    /// members of its probe run back), onto the free list.
    @usableFromInline
    mutating func unregister(_ slot: Int) {
        let mask = Self.localMapSize - 1
        var hole = Self.mapStart(localAddresses[slot])
        while Int(localMap[hole]) != slot + 1 { hole = (hole + 1) & mask }
        var j = hole
        while true {
            j = (j + 1) & mask
            let v = Int(localMap[j])
            if v == 0 { break }
            let start = Self.mapStart(localAddresses[v - 1])
            if (j - start) & mask >= (j - hole) & mask {
                localMap[hole] = localMap[j]
                hole = j
            }
        }
        localMap[hole] = 0
        localFreeSlots.append(Int32(slot))
        localCount -= 1
    }

    /// Makes `addresses` (the LIPs of the configuration) the pinned ones: each is registered, so
    /// connections to it never register anything on the packet path, and stays registered until
    /// unpinned and unused. LIPs no longer among them stay while connections use them. Allocates
    /// (at start and reload, never per packet).
    public mutating func pinLocalAddresses(_ addresses: [IPAddress]) {
        for slot in localAddresses.indices where localPinned[slot] {
            localPinned[slot] = false
            if localUsers[slot] == 0 && !addresses.contains(localAddresses[slot]) { unregister(slot) }
        }
        localFreeSlots.reserveCapacity(Self.maximumLocalAddresses)
        for address in addresses {
            let slot = register(address)
            if slot >= 0 { localPinned[slot] = true }
        }
    }

    /// True when `address` is in the reply index.
    public func isRegistered(_ address: IPAddress) -> Bool { localSlot(address) >= 0 }

    // MARK: Lookup

    /// The reply-index position of `port` on registry slot `slot`, or -1 when the port is not this
    /// worker's.
    @inlinable @inline(__always)
    func replyPosition(slot: Int, port: UInt16) -> Int {
        if portStride == 1 { return slot &* 65_536 &+ Int(port) }
        let p = Int(port)
        let index = p / portStride
        guard p &- index &* portStride == portPhase else { return -1 }
        return slot &* portsPerAddress &+ index
    }

    /// A reply (RIP:rport → LIP:lport) found through the reply index, or -1.
    @inlinable @inline(__always)
    func lookupReply(_ key: FlowKey) -> Int {
        if localCount == 0 { return -1 }
        let slot = localSlot(key.destination)
        if slot < 0 { return -1 }
        let position = replyPosition(slot: slot, port: key.destinationPort)
        if position < 0 { return -1 }
        var next = replyHeads[position]
        while next > 0 {
            let index = Int(next &- 1)
            if entries[index].realPort == key.sourcePort
                && entries[index].kind & Connection.transportMask == key.transport
                && entries[index].realLow == key.source.low && entries[index].realHigh == key.source.high
                && (entries[index].kind & Connection.innerV6 != 0) == key.source.isV6
            {
                return index
            }
            next = links[index]
        }
        return -1
    }

    /// A key in the hashed index: its id and direction bit, or -1.
    @inlinable @inline(__always)
    func lookupHashed(_ key: FlowKey, hash h: UInt32) -> Int32 {
        guard let slot = findSlot(key, hash: h) else { return -1 }
        return Int32(truncatingIfNeeded: UInt32(truncatingIfNeeded: slots[slot])) - 1
    }

    /// Looks up a packet's own tuple: a client→VIP tuple matches a connection's inbound key, an
    /// RS→LIP tuple its outbound key.
    /// - Returns: the connection and the direction the packet travels, or nil.
    /// Always inlined: called out of line, the table (about 170 bytes of array references and counts)
    /// was copied to the stack for every call (callgrind: a 29-instruction memcpy per packet).
    @inlinable @inline(__always)
    public func lookup(_ key: FlowKey) -> (id: ConnectionID, direction: FlowDirection)? {
        let reply = lookupReply(key)
        if reply >= 0 { return (ConnectionID(truncatingIfNeeded: reply), .outbound) }
        let ref = lookupHashed(key, hash: hash(key))
        if ref < 0 { return nil }
        return (ref >> 1, (ref & 1) == 0 ? .inbound : .outbound)
    }

    /// True once `now` has reached the deadline of entry `id` (Connection.isExpired, read in place).
    @inlinable
    public func isExpired(_ id: ConnectionID, at now: UInt64) -> Bool {
        Int32(bitPattern: entries[Int(id)].expiry &- UInt32(truncatingIfNeeded: now)) <= 0
    }

    /// True when `id` names a live connection.
    @inlinable
    public func isLive(_ id: ConnectionID) -> Bool {
        id >= 0 && Int(id) < capacity && links[Int(id)] >= 0
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
        var i = home(h)
        while slots[i] != 0 { i = following(i) }
        slots[i] = UInt64(h) << 32 | UInt64(ref + 1)
        hashedCount += 1
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
        if lookupReply(inboundKey) >= 0 || lookupHashed(inboundKey, hash: hin) >= 0 { return nil }
        let hout = hash(outboundKey)
        if lookupReply(outboundKey) >= 0 || lookupHashed(outboundKey, hash: hout) >= 0 { return nil }
        // The reply index, registering a LIP seen for the first time (a peer's: the configuration's
        // are pinned), or the hashed index when it cannot.
        var slot = localSlot(connection.local)
        if slot < 0 { slot = register(connection.local) }
        let position = slot < 0 ? -1 : replyPosition(slot: slot, port: connection.localPort)
        guard hashedCount + (position < 0 ? 2 : 1) <= hashedLimit else {
            if slot >= 0 && localUsers[slot] == 0 && !localPinned[slot] { unregister(slot) }
            return nil
        }
        let id = freeHead
        let index = Int(id)
        freeHead = -2 - links[index]
        entries[index] = connection
        place(hash: hin, ref: index << 1)
        if position >= 0 {
            links[index] = replyHeads[position]
            replyHeads[position] = id + 1
            localUsers[slot] += 1
        } else {
            links[index] = 0
            place(hash: hout, ref: index << 1 | 1)
        }
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
            j = following(j)
            let s = slots[j]
            if s == 0 { break }
            let start = home(UInt32(truncatingIfNeeded: s >> 32))
            // The member at j may move to i unless its home lies cyclically in (i, j].
            let fromHome = j >= start ? j - start : j + slotTotal - start
            let fromHole = j >= i ? j - i : j + slotTotal - i
            if fromHome >= fromHole {
                slots[i] = s
                i = j
            }
        }
        slots[i] = 0
        hashedCount -= 1
    }

    @inlinable
    mutating func unindex(hash h: UInt32, ref: Int) {
        let wanted = UInt64(h) << 32 | UInt64(ref + 1)
        var i = home(h)
        while slots[i] != 0 {
            if slots[i] == wanted {
                erase(slot: i)
                return
            }
            i = following(i)
        }
    }

    /// Takes entry `index` off its reply chain; false when it is on none (it is in the hashed index).
    @inlinable
    mutating func unchain(_ index: Int) -> Bool {
        let slot = localSlot(entries[index].local)
        if slot < 0 { return false }
        let position = replyPosition(slot: slot, port: entries[index].localPort)
        if position < 0 { return false }
        let ref = Int32(index + 1)
        if replyHeads[position] == ref {
            replyHeads[position] = links[index]
        } else {
            var previous = Int(replyHeads[position])
            while previous > 0 && links[previous - 1] != ref { previous = Int(links[previous - 1]) }
            // A registered LIP whose chain lacks the entry: it was indexed before the LIP was.
            if previous <= 0 { return false }
            links[previous - 1] = links[index]
        }
        localUsers[slot] -= 1
        if localUsers[slot] == 0 && !localPinned[slot] { unregister(slot) }
        return true
    }

    /// Removes a connection and frees its entry.
    /// - Returns: false (and does nothing) when `id` is not live.
    @inlinable
    @discardableResult
    public mutating func remove(_ id: ConnectionID) -> Bool {
        guard isLive(id) else { return false }
        let index = Int(id)
        unindex(hash: hash(entries[index].inboundKey), ref: index << 1)
        if !unchain(index) { unindex(hash: hash(entries[index].outboundKey), ref: index << 1 | 1) }
        entries[index] = Connection.empty
        links[index] = -2 - freeHead
        freeHead = id
        liveCount -= 1
        return true
    }

    /// Removes every connection (not for the hot path: touches the whole index). Pinned LIPs stay.
    public mutating func removeAll() {
        for i in slots.indices { slots[i] = 0 }
        hashedCount = 0
        for i in replyHeads.indices { replyHeads[i] = 0 }
        for slot in localAddresses.indices where localUsers[slot] > 0 {
            localUsers[slot] = 0
            if !localPinned[slot] { unregister(slot) }
        }
        for i in 0..<capacity {
            entries[i] = Connection.empty
            links[i] = Int32(-2 - (i + 1 < capacity ? i + 1 : -1))
        }
        freeHead = 0
        liveCount = 0
    }

    /// Calls `body` with every live connection, in id order (for listings and reloads, not the hot path).
    public func forEach(_ body: (ConnectionID, Connection) throws -> Void) rethrows {
        for i in 0..<capacity where links[i] >= 0 {
            try body(Int32(i), entries[i])
        }
    }
}
