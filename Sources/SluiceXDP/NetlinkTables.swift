// The mirror's working copy of the kernel tables: links, the routes of every routing table (or of the one
// `interfaces.route_table` names), the IPv4/IPv6 ip rules, and the IPv4/IPv6 neighbour entries, updated
// message by message and turned into an immutable NetworkView after each burst.
// Pure value logic, no I/O, so that event handling is tested on byte fixtures.
//
// Every event carries the full state of one object, so applying events that are older than a dump on top
// of the dump converges to the kernel's state: the mirror subscribes before it dumps and replays whatever
// queued up. Some kernel changes are not announced: IPv4 routes flushed because a link went down or
// away produce no RTM_DELROUTE. A link whose up/running state changes, a deleted link, a deletion of a
// route the mirror does not hold, and a lost event (ENOBUFS) therefore ask for a full re-dump (`.resync`);
// at a few hundred routes a dump takes well under a millisecond of kernel time.
//
// Applying a message costs O(1) whatever the table's size (routes are grouped by the kernel's route key,
// so NLM_F_REPLACE swaps one group): a routing daemon pushing a full table costs the mirror time in
// proportion to the messages, and the snapshots it publishes are bounded by NetlinkMirror's hold-down.

import SluiceCore
import SluicePacket

/// Links, routes, rules and neighbours as rtnetlink reported them.
struct NetlinkTables: Equatable, Sendable {
    /// The one routing table mirrored (`interfaces.route_table`; ip rules not evaluated), or nil for
    /// every table and the ip rules that pick among them.
    let table: UInt32?
    var links: [Int32: NetlinkLink] = [:]
    /// The ip rules of both families in the kernel's order (a new rule goes after those of its
    /// priority, as fib_nl_newrule inserts it). Unused when `table` is set.
    var rules: [RoutingRule] = []
    /// Whether `rules` is the kernel's list (a rule dump completed, or a rule event came): until then,
    /// as in tables filled from captured messages, the view takes the kernel's default rules. Once known,
    /// an empty list routes nothing, as in a kernel whose every rule was deleted.
    var rulesKnown = false
    /// The routes by the kernel's route key; more than one entry per key only for routes that differ in
    /// their next hop (added with NLM_F_APPEND or without NLM_F_REPLACE).
    var routesByKey: [NetlinkRoute.Key: [NetlinkRoute]] = [:]
    var neighbours: [NeighbourKey: NeighbourEntry] = [:]

    struct NeighbourKey: Hashable, Sendable {
        var interfaceIndex: Int32
        var address: IPAddress
    }

    /// What applying a message did.
    enum Outcome: Equatable {
        /// Nothing the data plane sees changed (or the message was not for the mirror).
        case unchanged
        /// The tables changed; publish a new view.
        case changed
        /// The message implies changes the kernel does not announce, or could not be matched: re-dump.
        case resync
    }

    init(table: UInt32? = nil) { self.table = table }

    /// Applies one message (a dump entry or an event).
    mutating func apply(_ message: NetlinkMessage) -> Outcome {
        switch message.type {
        case Netlink.newLink:
            guard let link = NetlinkLink.decode(message.payload) else { return .unchanged }
            let old = links.updateValue(link, forKey: link.index)
            if old == link { return .unchanged }
            if let old, old.linkState != link.linkState { return .resync }
            return .changed
        case Netlink.delLink:
            guard let link = NetlinkLink.decode(message.payload) else { return .unchanged }
            links[link.index] = nil
            routesByKey = routesByKey.compactMapValues { group in
                let kept = group.filter { $0.interfaceIndex != link.index }
                return kept.isEmpty ? nil : kept
            }
            neighbours = neighbours.filter { $0.key.interfaceIndex != link.index }
            return .resync
        case Netlink.newRoute:
            guard let route = NetlinkRoute.decode(message.payload), route.belongs(to: table, requireAlive: false) else {
                return .unchanged
            }
            let key = route.key
            let before = routesByKey[key] ?? []
            // A replace swaps every route of the key; otherwise the one with this next hop.
            var group = message.flags & Netlink.flagReplace != 0 ? [] : before.filter { $0.identity != route.identity }
            if route.belongs(to: table, requireAlive: true) { group.append(route) }
            routesByKey[key] = group.isEmpty ? nil : group
            return Set(group) == Set(before) ? .unchanged : .changed
        case Netlink.delRoute:
            guard let route = NetlinkRoute.decode(message.payload), route.belongs(to: table, requireAlive: false) else {
                return .unchanged
            }
            let key = route.key
            guard let group = routesByKey[key], group.contains(where: { $0.identity == route.identity }) else {
                return .resync
            }
            let kept = group.filter { $0.identity != route.identity }
            routesByKey[key] = kept.isEmpty ? nil : kept
            return .changed
        case Netlink.newRule:
            guard table == nil, let rule = NetlinkRule.decode(message.payload) else { return .unchanged }
            // An identical rule is the same one seen twice (an event replayed over a dump): the kernel
            // refuses to add a duplicate when asked with NLM_F_EXCL, as `ip rule add` does.
            rulesKnown = true
            guard !rules.contains(rule) else { return .unchanged }
            let position = rules.firstIndex { $0.v6 == rule.v6 && $0.priority > rule.priority } ?? rules.endIndex
            rules.insert(rule, at: position)
            return .changed
        case Netlink.delRule:
            guard table == nil, let rule = NetlinkRule.decode(message.payload) else { return .unchanged }
            rulesKnown = true
            guard let index = rules.firstIndex(of: rule) else { return .resync }
            rules.remove(at: index)
            return .changed
        case Netlink.newNeighbour:
            guard let entry = NetlinkNeighbour.decode(message.payload) else { return .unchanged }
            let key = NeighbourKey(interfaceIndex: entry.interfaceIndex, address: entry.address)
            return neighbours.updateValue(entry, forKey: key) == entry ? .unchanged : .changed
        case Netlink.delNeighbour:
            guard let entry = NetlinkNeighbour.decode(message.payload) else { return .unchanged }
            let key = NeighbourKey(interfaceIndex: entry.interfaceIndex, address: entry.address)
            return neighbours.removeValue(forKey: key) == nil ? .unchanged : .changed
        case Netlink.typeOverrun:
            return .resync
        default:
            return .unchanged
        }
    }

    /// Every route mirrored, in no particular order.
    var routes: [NetlinkRoute] { routesByKey.values.flatMap { $0 } }

    /// The tables as an immutable snapshot. Routes and neighbours are ordered deterministically so that
    /// equal tables give equal views (equal-metric ties resolve the same way every time).
    func view(generation: UInt64) -> NetworkView {
        let interfaces = links.values.map { InterfaceInfo(index: $0.index, mac: $0.mac, mtu: $0.mtu, group: $0.group) }
        let names = links.mapValues(\.name)
        let sortedRoutes = routes.sorted(by: NetlinkTables.precedes).map(\.route)
        let sortedNeighbours = neighbours.values.sorted {
            ($0.interfaceIndex, $0.address) < ($1.interfaceIndex, $1.address)
        }
        // One table named: a single rule per family looks it up, so nothing else is consulted.
        let rules =
            table.map { table in
                [false, true].map { RoutingRule(v6: $0, priority: 0, action: .lookup(table: table)) }
            } ?? (rulesKnown ? rules : nil)
        return NetworkView(
            interfaces: interfaces, routes: sortedRoutes, neighbours: sortedNeighbours, generation: generation,
            interfaceNames: names, rules: rules)
    }

    private static func precedes(_ a: NetlinkRoute, _ b: NetlinkRoute) -> Bool {
        if a.table != b.table { return a.table < b.table }
        if a.destination != b.destination { return a.destination < b.destination }
        if a.prefixLength != b.prefixLength { return a.prefixLength < b.prefixLength }
        if a.priority != b.priority { return a.priority < b.priority }
        if a.interfaceIndex != b.interfaceIndex { return a.interfaceIndex < b.interfaceIndex }
        let zero = IPAddress(v4: 0)
        return (a.gateway != nil ? 1 : 0, a.gateway ?? zero) < (b.gateway != nil ? 1 : 0, b.gateway ?? zero)
    }
}
