// A small direct-mapped cache of forwarding decisions (route → interface → neighbour MAC), keyed by
// destination address and valid for one NetworkView generation. Most frames of a worker go to a
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

    /// A Fibonacci multiply of the address's words: one multiplication per frame. The family needs no
    /// part in it (an entry matches on the whole address); a collision costs a table walk, not a
    /// wrong answer.
    @inlinable @inline(__always)
    static func slot(_ destination: IPAddress) -> Int {
        Int(truncatingIfNeeded: ((destination.high ^ destination.low) &* 0x9E37_79B9_7F4A_7C15) >> 56) & (size - 1)
    }

    /// The cached egress for `destination` under snapshot `generation`, if any.
    @inlinable @inline(__always)
    func lookup(_ destination: IPAddress, generation: UInt64, into egress: inout Egress) -> Bool {
        let i = Self.slot(destination)
        guard entries[i].valid, entries[i].generation == generation, entries[i].destination == destination else {
            return false
        }
        egress = entries[i].egress
        return true
    }

    @inlinable
    mutating func store(_ destination: IPAddress, generation: UInt64, egress: Egress) {
        let i = Self.slot(destination)
        entries[i].destination = destination
        entries[i].generation = generation
        entries[i].egress = egress
        entries[i].valid = true
    }
}
