// The per-packet lookups. They only read the arrays built once per snapshot (see
// NetworkView+Snapshot.swift): no allocation, no reference counting beyond what borrowing the view
// already holds, and a bounded number of probes (per rule that matches: one per distinct prefix length
// of the family in the table it names, plus short linear-probe runs in tables kept at most half full).
// The rule walk is bounded by the family's rule count: a goto only ever jumps forward.

import SluicePacket

extension NetworkView {
    /// The interface with index `index`, if the kernel has it.
    @inlinable
    public func interface(_ index: Int32) -> InterfaceInfo? {
        var lower = 0
        var upper = interfaces.count
        while lower < upper {
            let middle = (lower + upper) / 2
            let candidate = interfaces[middle].index
            if candidate == index { return interfaces[middle] }
            if candidate < index { lower = middle + 1 } else { upper = middle }
        }
        return nil
    }

    /// The next hop towards `destination` for a packet with nothing else known (`RouteQuery.unspecified`):
    /// right for views whose rules select by destination only, such as the default rules.
    @inlinable
    public func nextHop(to destination: IPAddress, flowHash: UInt32 = 0) -> NextHop? {
        nextHop(to: destination, query: .unspecified(v6: destination.isV6), flowHash: flowHash)
    }

    /// The next hop towards `destination` for a packet described by `query`: the ip rules of the
    /// destination's family in priority order, as the kernel's fib_rules_lookup evaluates them. A
    /// matching lookup rule takes its table's longest matching prefix (the lowest metric among equal
    /// prefixes; of a multipath route, the next hop `flowHash` picks by weight); no match there, a throw
    /// route, a match whose prefix is no longer than the rule's suppress_prefixlength, or one through an
    /// interface of the rule's suppress_ifgroup goes on with the next rule. Returns nil when the rules
    /// run out, a blackhole/unreachable/prohibit rule matches, the route found is a reject route, or its
    /// interface is unknown.
    @inlinable
    public func nextHop(to destination: IPAddress, query: RouteQuery, flowHash: UInt32 = 0) -> NextHop? {
        var r = destination.isV6 ? v4RuleCount : 0
        let end = destination.isV6 ? ruleEntries.count : v4RuleCount
        var hop = NextHop(interfaceIndex: 0, address: destination, mtu: 0)
        while r < end {
            let rule = ruleEntries[r]
            guard rule.matches(destination, query) else {
                r += 1
                continue
            }
            switch rule.action {
            case RuleEntry.actionLookup:
                var length: UInt8 = 0
                var first: Int32 = 0
                switch lookup(
                    destination, table: rule.table, flowHash: flowHash, hop: &hop, length: &length, first: &first)
                {
                case .found:
                    if Int16(length) > rule.suppressPrefixLength
                        && (rule.suppressGroup < 0 || !inGroup(destination.isV6 ? hop.interfaceIndex : first, rule))
                    {
                        return hop
                    }
                case .missing:
                    break
                case .rejected:
                    return nil
                }
                r += 1
            case RuleEntry.actionGoto:
                // The target is evaluated like any rule (the kernel's `goto jumped`); always forward.
                r = rule.target > r ? Int(rule.target) : r + 1
            case RuleEntry.actionNop:
                r += 1
            default:
                return nil
            }
        }
        return nil
    }

    /// Whether interface `index` is in the group `rule` suppresses (an unknown interface is in none).
    @inlinable
    func inGroup(_ index: Int32, _ rule: RuleEntry) -> Bool {
        guard let interface = interface(index) else { return false }
        return Int64(interface.group) == rule.suppressGroup
    }

    /// The longest match for `destination` in the table with index `table` (-1: a table without routes);
    /// `first` is the interface of the route's first next hop (the one a multipath route lists first).
    @inlinable
    func lookup(
        _ destination: IPAddress, table: Int32, flowHash: UInt32, hop: inout NextHop, length matched: inout UInt8,
        first: inout Int32
    ) -> TableOutcome {
        guard table >= 0 else { return .missing }
        let lengths = tables[Int(table)]
        var n = Int(lengths.start) + (destination.isV6 ? Int(lengths.v4Count) : 0)
        let end = n + Int(destination.isV6 ? lengths.v6Count : lengths.v4Count)
        let mask = routeSlots.count - 1
        while n < end {
            let length = prefixLengths[n]
            let (high, low) = RouteSlot.mask(destination, length: length)
            let tag = RouteSlot.tag(v6: destination.isV6, length: length, table: table)
            var i = RouteSlot.hash(high: high, low: low, tag: tag) & mask
            while routeSlots[i].tag != 0 {
                if routeSlots[i].matches(high: high, low: low, tag: tag) {
                    var entry = routeEntries[Int(routeSlots[i].entry)]
                    guard entry.usable else { return entry.throwsToNextRule ? .missing : .rejected }
                    first = entry.interfaceIndex
                    let multipath = entry.pathCount > 0
                    if multipath {
                        entry = pathEntries[Int(entry.pathStart) + Int(flowHash % UInt32(entry.pathCount))]
                    }
                    hop = NextHop(
                        interfaceIndex: entry.interfaceIndex, address: entry.connected ? destination : entry.gateway,
                        mtu: entry.mtu, isMultipath: multipath)
                    matched = length
                    return .found
                }
                i = (i + 1) & mask
            }
            n += 1
        }
        return .missing
    }

    /// What the lookup keys on beyond the destination: `query` with the fields no rule of this view
    /// selects by cleared, so that EgressCache shares one decision among packets the rules cannot tell
    /// apart (with the default rules, every packet to one destination).
    @inlinable @inline(__always)
    public func relevantPart(of query: RouteQuery) -> RouteQuery {
        var key = query
        if !selectsSource { key.source = IPAddress(v4: 0) }
        if !selectsTransport {
            key.transport = 0
            key.sourcePort = 0
            key.destinationPort = 0
        }
        return key
    }

    /// The link-layer address of `address` on interface `interfaceIndex`, when the kernel holds it in
    /// a usable state (REACHABLE, STALE, DELAY, PROBE, PERMANENT or NOARP). Nil for INCOMPLETE, FAILED
    /// or an unknown neighbour: the caller drops the frame and asks the kernel to resolve.
    @inlinable
    public func neighbour(_ address: IPAddress, on interfaceIndex: Int32) -> MACAddress? {
        let mask = neighbourSlots.count - 1
        var i = NeighbourSlot.hash(address, interfaceIndex: interfaceIndex) & mask
        while neighbourSlots[i].occupied {
            if neighbourSlots[i].matches(address, interfaceIndex: interfaceIndex) { return neighbourSlots[i].mac }
            i = (i + 1) & mask
        }
        return nil
    }
}
