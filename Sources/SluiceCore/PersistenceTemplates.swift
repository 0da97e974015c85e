// Persistence templates (IPVS `-p timeout`): a client, or a client network under
// `persistence_netmask`, keeps the real server it was given while it has connections and for
// `persistence_timeout` after. One table shared by every worker of the process, because RSS spreads a
// client's connections over queues: a template one worker made must steer the next connection
// whichever worker receives it. No lock: each slot is two atomic words, a key and a value.
//
// - key: a SipHash of (VIP, port, protocol, client network), never 0 (0 marks an empty slot). A 64-bit
//   hash stands for the whole key: two clients whose keys collide share a template, which only means
//   one follows the other's server (probability 2^-64 per pair).
// - value: the real server's tag (a hash of its address and port, stable across reloads and worker
//   tables) in the high 32 bits, the expiry in monotonic seconds in the low 32 bits. 0 while a worker
//   is filling the slot.
//
// Slots are probed linearly over a short window from the key's hash. A slot whose template expired
// may be taken over: its value is first swapped to 0 (claimed), then the key and value are written.
// A reader re-checks the key after reading the value, so it never pairs one client's key with another's
// server. Two workers opening the first connections of one client in the same instant may both
// schedule; the later store keeps the first template (compare-and-swap), and the one connection already
// scheduled elsewhere is the only trace.

import SluicePacket
import Synchronization

/// One template slot.
@usableFromInline
struct TemplateSlot: ~Copyable, Sendable {
    @usableFromInline let key = Atomic<UInt64>(0)
    @usableFromInline let value = Atomic<UInt64>(0)

    @usableFromInline init() {}
}

/// The persistence templates of every worker.
public final class PersistenceTemplates: Sendable {
    /// Slots of the table (a power of two): 2 MiB. A full probe window counts
    /// `persistence_table_full` and schedules without a template.
    public static let slotCount = 131_072
    /// Slots examined from a key's home slot.
    @usableFromInline static let probeLength = 8

    @usableFromInline let slots: InlineArray<131_072, TemplateSlot>
    /// Key of the template-key hash: per process, since templates never leave it.
    public let hashKey: (UInt64, UInt64)

    public init(hashKey: (UInt64, UInt64)) {
        self.hashKey = hashKey
        self.slots = InlineArray { _ in TemplateSlot() }
    }

    /// The template key of a client network for a virtual service: never 0.
    @inlinable
    public func key(vip: IPAddress, port: UInt16, transport: UInt8, clientNetwork: IPAddress) -> UInt64 {
        var h = SipHash24(k0: hashKey.0, k1: hashKey.1)
        h.combine(vip.high)
        h.combine(vip.low)
        h.combine(UInt32(port) << 8 | UInt32(transport))
        h.combine(clientNetwork.high)
        h.combine(clientNetwork.low)
        let k = h.finalize()
        return k == 0 ? 1 : k
    }

    /// The network of `client` under a prefix length (32 or 128 and above: the address itself).
    @inlinable
    public static func network(of client: IPAddress, prefix: UInt8) -> IPAddress {
        var n = client
        if client.isV6 {
            let p = Int(prefix)
            n.high = p >= 64 ? client.high : (p == 0 ? 0 : client.high & ~(UInt64.max >> p))
            n.low = p >= 128 ? client.low : (p <= 64 ? 0 : client.low & ~(UInt64.max >> (p - 64)))
        } else {
            let p = Int(prefix)
            n.low = p >= 32 ? client.low : (p == 0 ? 0 : client.low & UInt64(~(UInt32.max >> p)))
        }
        return n
    }

    /// A real server's tag: the same for its address and port in every worker and after a reload.
    @inlinable
    public static func tag(address: IPAddress, port: UInt16) -> UInt32 {
        let h = SipHash24.hash(k0: tagKey.0, k1: tagKey.1, address.high, address.low, UInt64(port))
        return UInt32(truncatingIfNeeded: h)
    }

    /// A fixed key: tags only tell servers of one service apart, they guard no secret.
    @usableFromInline static let tagKey: (UInt64, UInt64) = (0x7065_7273_6973_7400, 0x7465_6D70_6C61_7465)

    @inlinable
    static func pack(tag: UInt32, expiry: UInt32) -> UInt64 { UInt64(tag) << 32 | UInt64(expiry) }

    @inlinable
    func home(_ key: UInt64) -> Int { Int(truncatingIfNeeded: key) & (Self.slotCount - 1) }

    /// The live template for `key` at `now` (monotonic seconds): its server's tag and expiry.
    @inlinable
    public func lookup(_ key: UInt64, now: UInt32) -> (tag: UInt32, expiry: UInt32)? {
        let home = home(key)
        for step in 0..<Self.probeLength {
            let i = (home &+ step) & (Self.slotCount - 1)
            guard slots[i].key.load(ordering: .acquiring) == key else { continue }
            let value = slots[i].value.load(ordering: .acquiring)
            // Filled, still this client's, and not expired.
            guard value != 0, slots[i].key.load(ordering: .acquiring) == key else { return nil }
            let expiry = UInt32(truncatingIfNeeded: value)
            return expiry > now ? (UInt32(truncatingIfNeeded: value >> 32), expiry) : nil
        }
        return nil
    }

    /// Makes `tag` the template of `key` until `expiry` (monotonic seconds), replacing an expired one
    /// or, when `replacing` names it, a template for another server (one that went down). Returns the
    /// tag that holds afterwards: another worker's when it stored first; nil when the probe window
    /// is full of live templates.
    @inlinable
    public func store(_ key: UInt64, tag: UInt32, expiry: UInt32, now: UInt32, replacing: UInt32? = nil) -> UInt32? {
        let home = home(key)
        let wanted = Self.pack(tag: tag, expiry: expiry)
        // The key's own slot first: refresh or replace it in place.
        for step in 0..<Self.probeLength {
            let i = (home &+ step) & (Self.slotCount - 1)
            guard slots[i].key.load(ordering: .acquiring) == key else { continue }
            let value = slots[i].value.load(ordering: .acquiring)
            if value == 0 { return nil }  // another worker is filling it right now
            let held = UInt32(truncatingIfNeeded: value >> 32)
            let live = UInt32(truncatingIfNeeded: value) > now
            if live && held != tag && held != replacing { return held }
            if slots[i].value.compareExchange(expected: value, desired: wanted, ordering: .acquiringAndReleasing)
                .exchanged
            {
                return tag
            }
            return lookup(key, now: now)?.tag
        }
        // A free or expired slot.
        for step in 0..<Self.probeLength {
            let i = (home &+ step) & (Self.slotCount - 1)
            var current = slots[i].key.load(ordering: .acquiring)
            if current == 0 {
                let (exchanged, original) = slots[i].key.compareExchange(
                    expected: 0, desired: key, ordering: .acquiringAndReleasing)
                if exchanged {
                    slots[i].value.store(wanted, ordering: .releasing)
                    return tag
                }
                current = original
            }
            // Another worker stored this client's template since the first pass: follow it (nil while
            // it is still being filled).
            if current == key { return lookup(key, now: now)?.tag }
            let value = slots[i].value.load(ordering: .acquiring)
            guard value != 0, UInt32(truncatingIfNeeded: value) <= now else { continue }
            // Claim the expired slot (value 0: being filled), then give it the new key and value.
            guard
                slots[i].value.compareExchange(expected: value, desired: 0, ordering: .acquiringAndReleasing).exchanged
            else { continue }
            slots[i].key.store(key, ordering: .releasing)
            slots[i].value.store(wanted, ordering: .releasing)
            return tag
        }
        return nil
    }

    /// Extends the template of `key` for `tag` to at least `expiry` (a connection lives on).
    @inlinable
    public func extend(_ key: UInt64, tag: UInt32, expiry: UInt32) {
        let home = home(key)
        for step in 0..<Self.probeLength {
            let i = (home &+ step) & (Self.slotCount - 1)
            guard slots[i].key.load(ordering: .acquiring) == key else { continue }
            var value = slots[i].value.load(ordering: .acquiring)
            while value != 0, UInt32(truncatingIfNeeded: value >> 32) == tag,
                UInt32(truncatingIfNeeded: value) < expiry
            {
                let (exchanged, original) = slots[i].value.compareExchange(
                    expected: value, desired: Self.pack(tag: tag, expiry: expiry), ordering: .acquiringAndReleasing)
                if exchanged { return }
                value = original
            }
            return
        }
    }

    /// Empties the table (a walk of every slot: for tests and fuzzing, never while workers run).
    public func removeAll() {
        for i in 0..<Self.slotCount {
            slots[i].key.store(0, ordering: .relaxed)
            slots[i].value.store(0, ordering: .relaxed)
        }
    }

    /// Live templates at `now` (a walk of the whole table: for listings, not the hot path).
    public func liveCount(now: UInt32) -> Int {
        var n = 0
        for i in 0..<Self.slotCount {
            let value = slots[i].value.load(ordering: .relaxed)
            if value != 0 && UInt32(truncatingIfNeeded: value) > now { n += 1 }
        }
        return n
    }
}
