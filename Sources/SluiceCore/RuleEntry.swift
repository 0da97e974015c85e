// One ip rule as the per-packet evaluation reads it (NetworkView+Rules.swift builds them): prefixes
// pre-masked, the selectors that do not depend on the packet folded into one flag, the table a lookup
// rule names resolved to its index among the view's tables, and a goto's target resolved to an index
// into the same flat array. A plain value in a flat array: no allocation, no reference counting.

import SluicePacket

/// An ip rule, precomputed for evaluation.
@usableFromInline
struct RuleEntry: Sendable {
    @usableFromInline var sourceHigh: UInt64 = 0
    @usableFromInline var sourceLow: UInt64 = 0
    @usableFromInline var destinationHigh: UInt64 = 0
    @usableFromInline var destinationLow: UInt64 = 0
    @usableFromInline var sourceLength: UInt8 = 0
    @usableFromInline var destinationLength: UInt8 = 0
    /// iif, oif, fwmark, tos/dscp, flow label, uid, l3mdev and tunnel id hold for Sluice's packets.
    @usableFromInline var fixedMatch = true
    /// FIB_RULE_INVERT.
    @usableFromInline var invert = false
    /// 0 for any.
    @usableFromInline var ipProtocol: UInt8 = 0
    /// Unset ranges are the whole port space.
    @usableFromInline var sourcePortLow: UInt16 = 0
    @usableFromInline var sourcePortHigh: UInt16 = .max
    @usableFromInline var destinationPortLow: UInt16 = 0
    @usableFromInline var destinationPortHigh: UInt16 = .max
    /// Not 0: a port matches when it equals the low bound under this mask, the range is not used.
    @usableFromInline var sourcePortMask: UInt16 = 0
    @usableFromInline var destinationPortMask: UInt16 = 0
    @usableFromInline var action: UInt8 = RuleEntry.actionStop
    /// `suppress_prefixlength`, -1 when unset.
    @usableFromInline var suppressPrefixLength: Int16 = -1
    /// `suppress_ifgroup` as the group's bit pattern, -1 when unset.
    @usableFromInline var suppressGroup: Int64 = -1
    /// Index into NetworkView.tables for a lookup; -1 for a table without routes (a lookup there
    /// finds nothing and goes on, like the kernel's lookup of a table that does not exist).
    @usableFromInline var table: Int32 = -1
    /// Index of a goto's target in NetworkView.ruleEntries; -1 when unresolved (the rule is skipped).
    @usableFromInline var target: Int32 = -1

    /// `action` values.
    @usableFromInline static let actionLookup: UInt8 = 1
    @usableFromInline static let actionGoto: UInt8 = 2
    @usableFromInline static let actionNop: UInt8 = 3
    /// Blackhole, unreachable, prohibit: the lookup ends without a route.
    @usableFromInline static let actionStop: UInt8 = 4

    init() {}

    /// Whether the rule matches a packet to `destination` described by `query`: the kernel's
    /// fib_rule_match, the family's match (prefixes, ipproto, ports), then `not`.
    @inlinable @inline(__always)
    func matches(_ destination: IPAddress, _ query: RouteQuery) -> Bool {
        var match = fixedMatch
        if match && sourceLength != 0 {
            let (high, low) = RouteSlot.mask(query.source, length: sourceLength)
            match = high == sourceHigh && low == sourceLow
        }
        if match && destinationLength != 0 {
            let (high, low) = RouteSlot.mask(destination, length: destinationLength)
            match = high == destinationHigh && low == destinationLow
        }
        if match && ipProtocol != 0 { match = ipProtocol == query.transport }
        if match {
            match =
                Self.port(query.sourcePort, low: sourcePortLow, high: sourcePortHigh, mask: sourcePortMask)
                && Self.port(
                    query.destinationPort, low: destinationPortLow, high: destinationPortHigh, mask: destinationPortMask
                )
        }
        return match != invert
    }

    @inlinable @inline(__always)
    static func port(_ port: UInt16, low: UInt16, high: UInt16, mask: UInt16) -> Bool {
        mask == 0 ? port >= low && port <= high : (port ^ low) & mask == 0
    }
}
