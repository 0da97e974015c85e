// A routing policy rule (ip-rule(8)) as the kernel reports it (RTM_NEWRULE: struct fib_rule_hdr and
// FRA_* attributes, include/uapi/linux/fib_rules.h). NetworkView evaluates a list of them in priority
// order for every route lookup, the way net/core/fib_rules.c's fib_rules_lookup does for a locally
// generated packet: iif is the loopback, no oif is bound, the mark is 0, the TOS/DSCP and IPv6 flow
// label are taken as 0 (the translated packet's are not looked at), the uid is 0 (root: a packet without
// a socket is routed as the kernel's own), and there is no tunnel key and no VRF (l3mdev). So a
// selector on any of those is decided once, when the view is built; only from/to, ipproto and the
// port ranges depend on the packet.

import SluicePacket

/// One ip rule.
public struct RoutingRule: Sendable, Hashable {
    /// FR_ACT_*: what a matching rule does.
    public enum Action: Sendable, Hashable {
        /// FR_ACT_TO_TBL: look the destination up in `table`; no route there (or a `throw` route) goes
        /// on with the next rule.
        case lookup(table: UInt32)
        /// FR_ACT_GOTO: go on at the first rule whose priority is `priority` (skipped when there is none).
        case goto(priority: UInt32)
        /// FR_ACT_NOP: nothing; the next rule.
        case nop
        /// FR_ACT_BLACKHOLE, FR_ACT_UNREACHABLE, FR_ACT_PROHIBIT (and any action this code does not
        /// know, which the kernel answers with EINVAL): no route.
        case blackhole, unreachable, prohibit, unknown
    }

    public var v6: Bool
    /// The preference: lower first; rules of equal priority keep the kernel's order.
    public var priority: UInt32
    public var action: Action
    /// `from PREFIX`; a zero length is `from all`.
    public var source: IPAddress
    public var sourceLength: UInt8
    /// `to PREFIX`; a zero length is `to all`.
    public var destination: IPAddress
    public var destinationLength: UInt8
    /// `not` (FIB_RULE_INVERT): the rule matches when its selectors do not.
    public var invert: Bool
    /// `iif NAME`: only "lo" matches Sluice's packets (locally output, like an LVS gateway's).
    public var inputInterface: String?
    /// `oif NAME`: never matches, the output interface is what the lookup finds, not known before it.
    public var outputInterface: String?
    /// `fwmark MARK/MASK`: matched against mark 0.
    public var mark: UInt32
    public var markMask: UInt32
    /// `tos` / `dsfield` (the header's byte) and `dscp` (FRA_DSCP): matched against 0.
    public var tos: UInt8
    public var dscp: UInt8?
    /// `flowlabel LABEL/MASK` (IPv6): matched against 0.
    public var flowLabel: UInt32
    public var flowLabelMask: UInt32
    /// `uidrange START-END`: matched against uid 0.
    public var uidRange: ClosedRange<UInt32>?
    /// `l3mdev`: no VRF device is mirrored, so it never matches.
    public var l3mdev: Bool
    /// `tun_id`: Sluice's packets carry no tunnel metadata, so a non-zero id never matches.
    public var tunnelID: UInt64
    /// `ipproto`: 0 for any.
    public var ipProtocol: UInt8
    /// `sport` / `dport` ranges; nil for any (the kernel treats a range with a 0 bound as unset).
    public var sourcePorts: ClosedRange<UInt16>?
    public var destinationPorts: ClosedRange<UInt16>?
    /// `sport VALUE/MASK`, `dport VALUE/MASK`: when not 0, a port matches when it equals the range's
    /// start under the mask (the kernel's fib_rule_port_match).
    public var sourcePortMask: UInt16
    public var destinationPortMask: UInt16
    /// `suppress_prefixlength N`: a route found with a prefix of N bits or fewer is refused and the
    /// next rule tried; -1 when unset.
    public var suppressPrefixLength: Int32
    /// `suppress_ifgroup G`: a route found whose device is in interface group G is refused and the next
    /// rule tried (the device of the route's first next hop for IPv4, of the chosen one for IPv6, as
    /// net/ipv4/fib_rules.c and net/ipv6/fib6_rules.c look at them); -1 when unset.
    public var suppressInterfaceGroup: Int32

    public init(
        v6: Bool = false, priority: UInt32, action: Action, source: IPAddress? = nil, sourceLength: UInt8 = 0,
        destination: IPAddress? = nil, destinationLength: UInt8 = 0, invert: Bool = false
    ) {
        self.v6 = v6
        self.priority = priority
        self.action = action
        self.source = source ?? .zero(v6: v6)
        self.sourceLength = sourceLength
        self.destination = destination ?? .zero(v6: v6)
        self.destinationLength = destinationLength
        self.invert = invert
        inputInterface = nil
        outputInterface = nil
        mark = 0
        markMask = 0
        tos = 0
        dscp = nil
        flowLabel = 0
        flowLabelMask = 0
        uidRange = nil
        l3mdev = false
        tunnelID = 0
        ipProtocol = 0
        sourcePorts = nil
        destinationPorts = nil
        sourcePortMask = 0
        destinationPortMask = 0
        suppressPrefixLength = -1
        suppressInterfaceGroup = -1
    }

    /// The kernel's default rules of a family (ip-rule(8)): 0 `lookup local`, 32766 `lookup main`, and
    /// for IPv4 32767 `lookup default`.
    public static func defaults(v6: Bool) -> [RoutingRule] {
        let rules = [
            RoutingRule(v6: v6, priority: 0, action: .lookup(table: localTable)),
            RoutingRule(v6: v6, priority: 32766, action: .lookup(table: mainTable)),
        ]
        return v6 ? rules : rules + [RoutingRule(v6: v6, priority: 32767, action: .lookup(table: defaultTable))]
    }

    /// RT_TABLE_LOCAL, RT_TABLE_MAIN, RT_TABLE_DEFAULT.
    public static let localTable: UInt32 = 255
    public static let mainTable: UInt32 = 254
    public static let defaultTable: UInt32 = 253

    /// The loopback's name: the iif of a locally generated packet.
    public static let loopbackName = "lo"

    /// Whether the selectors that do not depend on the packet (iif, oif, fwmark, tos/dscp, flow label,
    /// uid, l3mdev, tunnel id) hold for Sluice's packets, before `not` applies.
    var fixedSelectorsMatch: Bool {
        if let inputInterface, inputInterface != Self.loopbackName { return false }
        if outputInterface != nil || l3mdev || tunnelID != 0 { return false }
        if mark & markMask != 0 || tos != 0 || (dscp ?? 0) != 0 || flowLabel & flowLabelMask != 0 { return false }
        if let uidRange, !uidRange.contains(0) { return false }
        return true
    }
}
