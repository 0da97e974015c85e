// An ip rule as an RTM_NEWRULE / RTM_DELRULE message describes it (struct fib_rule_hdr + FRA_*
// attributes, include/uapi/linux/fib_rules.h), decoded into SluiceCore's RoutingRule.
//
// - The table is FRA_TABLE when present (the header's byte holds only ids below 256, else
//   RT_TABLE_COMPAT), the priority FRA_PRIORITY (0 when absent, as the kernel's rule 0 is dumped).
// - FRA_FWMARK without FRA_FWMASK has the mask 0xFFFFFFFF, as the kernel gives it.
// - FRA_SUPPRESS_PREFIXLEN / FRA_SUPPRESS_IFGROUP are dumped as 0xFFFFFFFF (-1) when unset.
// - A port range with a 0 bound is "unset" to the kernel (fib_rule_port_range_set), so it is not kept.
//   A port mask (FRA_SPORT_MASK / FRA_DPORT_MASK, `dport 0x100/0xff00`) makes the range's start a value
//   to compare under the mask; the kernel reports 0xFFFF for a single port.

import SluiceCore
import SluicePacket

/// Decodes rtnetlink rule messages.
enum NetlinkRule {
    /// The rule of an RTM_NEWRULE / RTM_DELRULE payload. Nil when it is too short, not IPv4 or IPv6,
    /// or has a prefix length or address that does not fit the family.
    static func decode(_ payload: ArraySlice<UInt8>) -> RoutingRule? {
        let reader = NetlinkReader(payload)
        guard payload.count >= Netlink.ruleMessageSize, let family = reader.u8(at: 0),
            family == Netlink.inet || family == Netlink.inet6, let destinationLength = reader.u8(at: 1),
            let sourceLength = reader.u8(at: 2), let tos = reader.u8(at: 3), let table = reader.u8(at: 4),
            let actionCode = reader.u8(at: 7), let flags = reader.u32(at: 8)
        else { return nil }
        let v6 = family == Netlink.inet6
        let maximum: UInt8 = v6 ? 128 : 32
        guard destinationLength <= maximum, sourceLength <= maximum else { return nil }
        var rule = RoutingRule(
            v6: v6, priority: 0, action: .unknown, sourceLength: sourceLength, destinationLength: destinationLength,
            invert: flags & Netlink.ruleFlagInvert != 0)
        rule.tos = tos
        var tableID = UInt32(table)
        var gotoTarget: UInt32 = 0
        var markMask: UInt32?
        for (type, value) in NetlinkAttributes(in: payload, after: Netlink.ruleMessageSize) {
            let field = NetlinkReader(value)
            switch type {
            case Netlink.ruleSource:
                guard let address = NetlinkReader.address(value, v6: v6) else { return nil }
                rule.source = address
            case Netlink.ruleDestination:
                guard let address = NetlinkReader.address(value, v6: v6) else { return nil }
                rule.destination = address
            case Netlink.ruleInputInterface:
                rule.inputInterface = String(decoding: value.prefix { $0 != 0 }, as: UTF8.self)
            case Netlink.ruleOutputInterface:
                rule.outputInterface = String(decoding: value.prefix { $0 != 0 }, as: UTF8.self)
            case Netlink.ruleGoto:
                gotoTarget = field.u32(at: 0) ?? 0
            case Netlink.rulePriority:
                rule.priority = field.u32(at: 0) ?? 0
            case Netlink.ruleMark:
                rule.mark = field.u32(at: 0) ?? 0
            case Netlink.ruleMarkMask:
                markMask = field.u32(at: 0)
            case Netlink.ruleTunnelID:
                // A 64-bit id; only whether it is 0 matters (it never matches Sluice's packets).
                rule.tunnelID = value.contains { $0 != 0 } ? 1 : 0
            case Netlink.ruleSuppressPrefixLength:
                rule.suppressPrefixLength = field.u32(at: 0).map { Int32(bitPattern: $0) } ?? -1
            case Netlink.ruleSuppressInterfaceGroup:
                rule.suppressInterfaceGroup = field.u32(at: 0).map { Int32(bitPattern: $0) } ?? -1
            case Netlink.ruleTable:
                tableID = field.u32(at: 0) ?? tableID
            case Netlink.ruleL3mdev:
                rule.l3mdev = (field.u8(at: 0) ?? 0) != 0
            case Netlink.ruleUIDRange:
                if let start = field.u32(at: 0), let end = field.u32(at: 4), start <= end {
                    rule.uidRange = start...end
                }
            case Netlink.ruleIPProtocol:
                rule.ipProtocol = field.u8(at: 0) ?? 0
            case Netlink.ruleSourcePorts:
                rule.sourcePorts = ports(field)
            case Netlink.ruleDestinationPorts:
                rule.destinationPorts = ports(field)
            case Netlink.ruleSourcePortMask:
                rule.sourcePortMask = field.u16(at: 0) ?? 0
            case Netlink.ruleDestinationPortMask:
                rule.destinationPortMask = field.u16(at: 0) ?? 0
            case Netlink.ruleDSCP:
                rule.dscp = field.u8(at: 0)
            case Netlink.ruleFlowLabel:
                rule.flowLabel = field.u32(at: 0) ?? 0
            case Netlink.ruleFlowLabelMask:
                rule.flowLabelMask = field.u32(at: 0) ?? 0
            default:
                continue
            }
        }
        rule.markMask = markMask ?? (rule.mark != 0 ? UInt32.max : 0)
        switch actionCode {
        case Netlink.actionToTable: rule.action = .lookup(table: tableID)
        case Netlink.actionGoto: rule.action = .goto(priority: gotoTarget)
        case Netlink.actionNop: rule.action = .nop
        case Netlink.actionBlackhole: rule.action = .blackhole
        case Netlink.actionUnreachable: rule.action = .unreachable
        case Netlink.actionProhibit: rule.action = .prohibit
        default: rule.action = .unknown
        }
        return rule
    }

    /// struct fib_rule_port_range (host byte order); nil when unset (a 0 bound) or inverted.
    private static func ports(_ field: NetlinkReader) -> ClosedRange<UInt16>? {
        guard let start = field.u16(at: 0), let end = field.u16(at: 2), start != 0, end != 0, start <= end else {
            return nil
        }
        return start...end
    }
}
