// The rewrites of fragmented datagrams (docs/protocol.md §3 "Fragments"), shared by every worker of
// the process. Only a datagram's first fragment carries ports, so only it can find the connection; the
// NIC spreads the later fragments over RX queues by addresses alone, so they may reach another worker
// than the connection's owner. The worker that translates a first fragment records here what it did
// (new addresses, new identification, direction), keyed by the datagram (FragmentKey: source,
// destination, protocol, identification); any worker that receives a later fragment looks it up and
// rewrites the fragment itself.
//
// Fixed memory, allocated once: `slotCount` slots of 13 atomic words, linear probing over a short
// window from the key's keyed hash (SipHash: clients cannot aim at one window). An entry lives
// `entryLifetime` (2 s). Linux waits 30 s for the missing fragments of a datagram it reassembles
// (ipfrag_time); the table holds no data, only the mapping, and a datagram's fragments leave their
// sender back to back, so any reordering a network produces is over within milliseconds. A short life
// matters for two reasons: at high rates the 16-bit IPv4 identification of one source comes round again
// within seconds (RFC 4963), and an old entry must not be taken for a new datagram's; and it bounds
// what the table must hold, slotCount / 2 s = 8192 fragmented datagrams per second, beyond which a
// full probe window drops the first fragment as `drop_fragment_table_full`.
//
// No lock: each slot is a seqlock. A writer claims a slot by moving its sequence word from an even
// value s to s + 1 with a compare-and-swap (so two workers never write one slot at once), issues a
// release fence, stores the key and value words, and publishes with s + 2 (release). A reader loads
// the sequence (acquire), skips an odd one, loads the words, issues an acquire fence and loads the
// sequence again: only an unchanged even value proves the words all belong to one write, so a reader
// never pairs one datagram's key with another's rewrite. A slot being written reads as a miss: the
// caller holds the later fragment and retries (FragmentHold.swift). The fences give the ordering
// the words' relaxed loads and stores lack: a reader that sees any word of a new write sees the
// odd sequence in its second load.
//
// Translated fragments get a new identification, one per datagram from a process-wide counter: FULLNAT
// gives many clients one LIP towards one real server, and their own identifications, unique only per
// client (RFC 791 §3.2, RFC 6864), would collide in the server's reassembly. A duplicate first fragment
// finds its datagram's entry and keeps its identification (Dataplane+Fragments.swift). Two workers
// recording the same datagram in the same instant (a duplicated first fragment on two queues) may each
// choose an identification, and lookups then answer one of them: the copy of the first fragment that
// carries the other is lost to the receiver, the other completes the datagram.

import SluicePacket
import Synchronization

/// One datagram's entry: a seqlock word, the key, the rewrite and the expiry.
@usableFromInline
struct FragmentSlot: ~Copyable, Sendable {
    /// Even: stable; odd: a writer holds the slot.
    @usableFromInline let sequence = Atomic<UInt64>(0)
    @usableFromInline let keySourceHigh = Atomic<UInt64>(0)
    @usableFromInline let keySourceLow = Atomic<UInt64>(0)
    @usableFromInline let keyDestinationHigh = Atomic<UInt64>(0)
    @usableFromInline let keyDestinationLow = Atomic<UInt64>(0)
    /// Identification, protocol and family (`FragmentTable.keyMeta`); 0 in a slot never written.
    @usableFromInline let keyMeta = Atomic<UInt64>(0)
    @usableFromInline let sourceHigh = Atomic<UInt64>(0)
    @usableFromInline let sourceLow = Atomic<UInt64>(0)
    @usableFromInline let destinationHigh = Atomic<UInt64>(0)
    @usableFromInline let destinationLow = Atomic<UInt64>(0)
    /// New identification, service and real server (`FragmentTable.valueMeta`).
    @usableFromInline let valueMeta = Atomic<UInt64>(0)
    /// The direction's raw value.
    @usableFromInline let direction = Atomic<UInt64>(0)
    /// Monotonic milliseconds; the entry is live while `expiry > now`. 0: never written.
    @usableFromInline let expiry = Atomic<UInt64>(0)

    @usableFromInline init() {}
}

/// The fragmented datagrams every worker of a process is forwarding.
public final class FragmentTable: Sendable {
    /// Slots of the table (a power of two): 16 384 × 104 bytes, 1.6 MiB.
    public static let slotCount = 16_384
    /// Slots examined from a key's home slot.
    public static let probeLength = 8
    /// How long a recorded rewrite serves later fragments, in milliseconds (see the file comment).
    public static let entryLifetime: UInt64 = 2_000
    /// Bytes the table takes.
    public static var bytes: Int { slotCount * MemoryLayout<FragmentSlot>.stride }

    @usableFromInline let slots: InlineArray<16_384, FragmentSlot>
    /// Key of the slot hash: per process, since entries never leave it.
    @usableFromInline let hashKey: (UInt64, UInt64)
    /// The last identification handed out.
    @usableFromInline let identifications: Atomic<UInt32>

    public init(hashKey: (UInt64, UInt64)) {
        self.hashKey = hashKey
        self.slots = InlineArray { _ in FragmentSlot() }
        // A keyed start, so that the identifications a gateway gives out say nothing of its past traffic.
        self.identifications = Atomic(UInt32(truncatingIfNeeded: hashKey.0 ^ hashKey.1 >> 32))
    }

    /// Identification, protocol and family in one word; bit 0 set, so never 0.
    @inlinable
    static func keyMeta(_ key: FragmentKey) -> UInt64 {
        UInt64(key.identification) << 32 | UInt64(key.transport) << 8 | (key.source.isV6 ? 2 : 0) | 1
    }

    @inlinable
    static func valueMeta(_ rewrite: FragmentRewrite) -> UInt64 {
        UInt64(rewrite.identification) << 32 | UInt64(rewrite.service) << 16 | UInt64(rewrite.server)
    }

    /// The first slot of `key`'s probe window.
    @inlinable
    func home(_ key: FragmentKey, meta: UInt64) -> Int {
        var h = SipHash24(k0: hashKey.0, k1: hashKey.1)
        h.combine(key.source.high)
        h.combine(key.source.low)
        h.combine(key.destination.high)
        h.combine(key.destination.low)
        h.combine(meta)
        return Int(truncatingIfNeeded: h.finalize()) & (Self.slotCount - 1)
    }

    /// True when slot `i` holds `key` (relaxed loads: the caller validates them with the sequence).
    @inlinable
    func holds(_ i: Int, _ key: FragmentKey, meta: UInt64) -> Bool {
        slots[i].keyMeta.load(ordering: .relaxed) == meta
            && slots[i].keySourceLow.load(ordering: .relaxed) == key.source.low
            && slots[i].keyDestinationLow.load(ordering: .relaxed) == key.destination.low
            && slots[i].keySourceHigh.load(ordering: .relaxed) == key.source.high
            && slots[i].keyDestinationHigh.load(ordering: .relaxed) == key.destination.high
    }

    /// The live rewrite of `key`'s datagram at `now` (monotonic milliseconds). A slot another worker
    /// is writing at this instant reads as a miss.
    @inlinable
    public func lookup(_ key: FragmentKey, now: UInt64) -> FragmentRewrite? {
        let meta = Self.keyMeta(key)
        let home = home(key, meta: meta)
        for step in 0..<Self.probeLength {
            let i = (home &+ step) & (Self.slotCount - 1)
            let before = slots[i].sequence.load(ordering: .acquiring)
            guard before & 1 == 0, holds(i, key, meta: meta) else { continue }
            let sourceHigh = slots[i].sourceHigh.load(ordering: .relaxed)
            let sourceLow = slots[i].sourceLow.load(ordering: .relaxed)
            let destinationHigh = slots[i].destinationHigh.load(ordering: .relaxed)
            let destinationLow = slots[i].destinationLow.load(ordering: .relaxed)
            let value = slots[i].valueMeta.load(ordering: .relaxed)
            let direction = slots[i].direction.load(ordering: .relaxed)
            let expiry = slots[i].expiry.load(ordering: .relaxed)
            atomicMemoryFence(ordering: .acquiring)
            // Rewritten meanwhile: what was read may mix two writes.
            guard slots[i].sequence.load(ordering: .relaxed) == before else { continue }
            guard expiry > now else { return nil }
            let v6 = key.source.isV6
            return FragmentRewrite(
                source: Self.address(high: sourceHigh, low: sourceLow, v6: v6),
                destination: Self.address(high: destinationHigh, low: destinationLow, v6: v6),
                identification: UInt32(truncatingIfNeeded: value >> 32),
                direction: direction == UInt64(FlowDirection.outbound.rawValue) ? .outbound : .inbound,
                service: UInt16(truncatingIfNeeded: value >> 16), server: UInt16(truncatingIfNeeded: value))
        }
        return nil
    }

    @inlinable
    static func address(high: UInt64, low: UInt64, v6: Bool) -> IPAddress {
        v6 ? IPAddress(v6High: high, low: low) : IPAddress(v4: UInt32(truncatingIfNeeded: low))
    }

    /// Records `rewrite` for `key`'s datagram until `now + entryLifetime`: in the datagram's own slot if
    /// it has one (a duplicate first fragment, or an identification come round again), else in a free or
    /// expired slot of its window. Returns false when the window holds only live entries of other
    /// datagrams, or other workers kept taking the slot chosen.
    @inlinable
    public func record(_ key: FragmentKey, _ rewrite: FragmentRewrite, now: UInt64) -> Bool {
        let meta = Self.keyMeta(key)
        let home = home(key, meta: meta)
        // A second pass only when another worker claimed the slot between our look and our claim.
        for _ in 0..<2 {
            var chosen = -1
            var chosenSequence: UInt64 = 0
            for step in 0..<Self.probeLength {
                let i = (home &+ step) & (Self.slotCount - 1)
                let sequence = slots[i].sequence.load(ordering: .acquiring)
                guard sequence & 1 == 0 else { continue }
                if holds(i, key, meta: meta) {
                    chosen = i
                    chosenSequence = sequence
                    break
                }
                if chosen < 0 && slots[i].expiry.load(ordering: .relaxed) <= now {
                    chosen = i
                    chosenSequence = sequence
                }
            }
            guard chosen >= 0 else { return false }
            // The claim succeeds only if nobody wrote the slot since its words were read above, so the
            // choice made on them still holds.
            guard
                slots[chosen].sequence.compareExchange(
                    expected: chosenSequence, desired: chosenSequence &+ 1, ordering: .acquiringAndReleasing
                ).exchanged
            else { continue }
            atomicMemoryFence(ordering: .releasing)
            slots[chosen].keySourceHigh.store(key.source.high, ordering: .relaxed)
            slots[chosen].keySourceLow.store(key.source.low, ordering: .relaxed)
            slots[chosen].keyDestinationHigh.store(key.destination.high, ordering: .relaxed)
            slots[chosen].keyDestinationLow.store(key.destination.low, ordering: .relaxed)
            slots[chosen].keyMeta.store(meta, ordering: .relaxed)
            slots[chosen].sourceHigh.store(rewrite.source.high, ordering: .relaxed)
            slots[chosen].sourceLow.store(rewrite.source.low, ordering: .relaxed)
            slots[chosen].destinationHigh.store(rewrite.destination.high, ordering: .relaxed)
            slots[chosen].destinationLow.store(rewrite.destination.low, ordering: .relaxed)
            slots[chosen].valueMeta.store(Self.valueMeta(rewrite), ordering: .relaxed)
            slots[chosen].direction.store(UInt64(rewrite.direction.rawValue), ordering: .relaxed)
            slots[chosen].expiry.store(now &+ Self.entryLifetime, ordering: .relaxed)
            // Sequence words only grow (by 2 per write): 2^63 writes before one wraps.
            slots[chosen].sequence.store(chosenSequence &+ 2, ordering: .releasing)
            return true
        }
        return false
    }

    /// A fresh identification for a translated datagram (IPv4 uses its low 16 bits). Wraps.
    @inlinable
    public func nextIdentification() -> UInt32 {
        identifications.wrappingAdd(1, ordering: .relaxed).newValue
    }

    /// The slot `key`'s probe window starts at (for tests that fill a window).
    public func homeSlot(of key: FragmentKey) -> Int { home(key, meta: Self.keyMeta(key)) }

    /// Empties the table (a walk of every slot: for tests and fuzzing, never while workers run).
    public func removeAll() {
        for i in 0..<Self.slotCount {
            slots[i].keyMeta.store(0, ordering: .relaxed)
            slots[i].expiry.store(0, ordering: .relaxed)
        }
    }

    /// Live entries at `now` (a walk of the whole table: for listings and tests, not the hot path).
    public func liveCount(now: UInt64) -> Int {
        var n = 0
        for i in 0..<Self.slotCount where slots[i].expiry.load(ordering: .relaxed) > now { n += 1 }
        return n
    }
}
