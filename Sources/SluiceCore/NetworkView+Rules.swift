// Building the ip rules of a snapshot into the flat array the per-packet evaluation reads
// (NetworkView+Lookup.swift). Each family's rules are ordered by priority, rules of equal priority in
// the order given (the kernel inserts a new rule after those of its priority, and dumps in list order).
// A goto's target is the first rule of the family with exactly the target priority, as the kernel
// resolves it (net/core/fib_rules.c); a goto without one is skipped, and one that would not jump forward
// (the kernel refuses to add such a rule) is skipped too, so evaluation always ends.

import SluicePacket

extension NetworkView {
    static func buildRules(_ rules: [RoutingRule], tableIndexes: [UInt32: Int32]) -> ([RuleEntry], Int) {
        let ordered = rules.enumerated().sorted { a, b in
            (a.element.v6 ? 1 : 0, a.element.priority, a.offset) < (b.element.v6 ? 1 : 0, b.element.priority, b.offset)
        }.map(\.element)
        var entries: [RuleEntry] = []
        entries.reserveCapacity(ordered.count)
        for rule in ordered {
            var entry = RuleEntry()
            entry.fixedMatch = rule.fixedSelectorsMatch
            entry.invert = rule.invert
            let maximum: UInt8 = rule.v6 ? 128 : 32
            entry.sourceLength = min(rule.sourceLength, maximum)
            (entry.sourceHigh, entry.sourceLow) = RouteSlot.mask(rule.source, length: entry.sourceLength)
            entry.destinationLength = min(rule.destinationLength, maximum)
            (entry.destinationHigh, entry.destinationLow) = RouteSlot.mask(
                rule.destination, length: entry.destinationLength)
            entry.ipProtocol = rule.ipProtocol
            if let ports = rule.sourcePorts {
                entry.sourcePortLow = ports.lowerBound
                entry.sourcePortHigh = ports.upperBound
                entry.sourcePortMask = rule.sourcePortMask
            }
            if let ports = rule.destinationPorts {
                entry.destinationPortLow = ports.lowerBound
                entry.destinationPortHigh = ports.upperBound
                entry.destinationPortMask = rule.destinationPortMask
            }
            entry.suppressPrefixLength = Int16(clamping: max(rule.suppressPrefixLength, -1))
            if rule.suppressInterfaceGroup != -1 {
                entry.suppressGroup = Int64(UInt32(bitPattern: rule.suppressInterfaceGroup))
            }
            switch rule.action {
            case .lookup(let table):
                entry.action = RuleEntry.actionLookup
                entry.table = tableIndexes[table] ?? -1
            case .goto:
                entry.action = RuleEntry.actionGoto
            case .nop:
                entry.action = RuleEntry.actionNop
            case .blackhole, .unreachable, .prohibit, .unknown:
                entry.action = RuleEntry.actionStop
            }
            entries.append(entry)
        }
        for (index, rule) in ordered.enumerated() {
            guard case .goto(let priority) = rule.action,
                let target = ordered.indices.first(where: {
                    ordered[$0].v6 == rule.v6 && ordered[$0].priority == priority
                }),
                target > index
            else { continue }
            entries[index].target = Int32(target)
        }
        return (entries, ordered.prefix { !$0.v6 }.count)
    }
}
