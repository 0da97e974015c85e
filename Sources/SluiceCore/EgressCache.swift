// A small direct-mapped cache of forwarding decisions (route → interface → neighbour MAC), keyed by
// destination address and what the view's ip rules select by besides it (NetworkView.relevantPart(of:):
// the source when a rule has a `from`, the protocol and ports when one has ipproto/sport/dport; nothing
// more with the default rules), and valid for one NetworkView generation. Most frames of a worker go to a
// handful of next hops (the real servers, the client-side router), and three table lookups per
// frame were a tenth of the per-packet instructions (Perf/results, callgrind). A new snapshot from
// the netlink mirror bumps the generation, so a changed route or neighbour is never served stale;
// failed lookups are not cached, so resolution keeps being requested until the kernel answers.

import SluicePacket

/// Recent egress decisions of one worker.
@usableFromInline
struct EgressCache {
    @usableFromInline
    struct Entry {
        @usableFromInline var destination = IPAddress(v4: 0)
        /// The query as NetworkView.relevantPart(of:) reduced it.
        @usableFromInline var query = RouteQuery(source: IPAddress(v4: 0))
        @usableFromInline var generation: UInt64 = 0
        @usableFromInline var valid = false
        @usableFromInline var egress = Egress()

        @inlinable
        init() {}
    }

    @usableFromInline static let size = 256
    @usableFromInline var entries: [Entry]

    @inlinable
    init() {
        entries = Array(repeating: Entry(), count: Self.size)
    }

    /// A Fibonacci multiply of the addresses' words: one multiplication per frame. The family needs no
    /// part in it (an entry matches on the whole key); a collision costs a table walk, not a wrong
    /// answer. The source is rotated so that a source and destination swapped land elsewhere.
    @inlinable @inline(__always)
    static func slot(_ destination: IPAddress, _ query: RouteQuery) -> Int {
        let folded = query.source.high ^ query.source.low
        let source = folded << 17 | folded >> 47
        let transport = UInt64(query.transport) << 32 | UInt64(query.sourcePort) << 16 | UInt64(query.destinationPort)
        let mixed = destination.high ^ destination.low ^ source ^ transport
        return Int(truncatingIfNeeded: (mixed &* 0x9E37_79B9_7F4A_7C15) >> 56) & (size - 1)
    }

    /// The cached egress for `destination` and `query` (already reduced by NetworkView.relevantPart(of:))
    /// under snapshot `generation`, if any.
    @inlinable @inline(__always)
    func lookup(_ destination: IPAddress, query: RouteQuery, generation: UInt64, into egress: inout Egress) -> Bool {
        let i = Self.slot(destination, query)
        guard entries[i].valid, entries[i].generation == generation, entries[i].destination == destination,
            entries[i].query.same(as: query)
        else {
            return false
        }
        egress = entries[i].egress
        return true
    }

    /// `lookup(_:query:generation:into:)` for a view whose rules select by the destination alone: every
    /// entry of that generation was stored with `RouteQuery.destinationOnly`, so there is no query to
    /// build, hash or compare (the slot is the same, its query terms being zero).
    @inlinable @inline(__always)
    func lookup(_ destination: IPAddress, generation: UInt64, into egress: inout Egress) -> Bool {
        let i = Self.slot(destination, .destinationOnly)
        guard entries[i].valid, entries[i].generation == generation, entries[i].destination == destination else {
            return false
        }
        egress = entries[i].egress
        return true
    }

    @inlinable
    mutating func store(_ destination: IPAddress, query: RouteQuery, generation: UInt64, egress: Egress) {
        let i = Self.slot(destination, query)
        entries[i].destination = destination
        entries[i].query = query
        entries[i].generation = generation
        entries[i].egress = egress
        entries[i].valid = true
    }
}
