// ip rules evaluated on hand-built views (NetworkView+Lookup.swift, RoutingRule.swift): priority
// order, from/to, `not`, fwmark with a mask, goto, nop, blackhole/unreachable/prohibit, a table without a
// match (or with a throw route) falling through to the next rule, suppress_prefixlength 0 and
// suppress_ifgroup, ipproto and
// port ranges, the selectors decided once for Sluice's packets (iif lo, oif, uid, tos, l3mdev), the
// default rule set, and the egress cache keeping decisions made for different sources apart.

import SluiceCore
import SluicePacket
import SluiceTestKit
import Testing

private func ip(_ text: String) -> IPAddress { IPAddress(text)! }

private let eth0 = InterfaceInfo(index: 2, mac: MACAddress(0x02_00_00_00_00_02), mtu: 1500)
private let routerA = "192.0.2.1"
private let routerB = "192.0.2.2"
private let routerC = "192.0.2.3"
private let server = ip("10.30.0.11")
private let lipA = ip("10.20.0.240")
private let lipB = ip("10.20.0.241")

private func route(
    _ prefix: String, _ length: UInt8, via gateway: String, table: UInt32 = 254, kind: Route.Kind = .unicast
) -> Route {
    Route(
        prefix: ip(prefix), prefixLength: length, interfaceIndex: eth0.index, gateway: ip(gateway), kind: kind,
        table: table)
}

private func rule(
    _ priority: UInt32, _ action: RoutingRule.Action, from source: String? = nil, to destination: String? = nil,
    not invert: Bool = false
) -> RoutingRule {
    func prefix(_ text: String?) -> (IPAddress?, UInt8) {
        guard let text else { return (nil, 0) }
        let parts = text.split(separator: "/")
        return (ip(String(parts[0])), UInt8(parts[1])!)
    }
    let (sourceAddress, sourceLength) = prefix(source)
    let (destinationAddress, destinationLength) = prefix(destination)
    let v6 = (source ?? destination ?? "").contains(":")
    return RoutingRule(
        v6: v6, priority: priority, action: action, source: sourceAddress, sourceLength: sourceLength,
        destination: destinationAddress, destinationLength: destinationLength, invert: invert)
}

/// Main routes the servers via A, table 100 via B, table 101 via C.
private let tables = [
    route("10.30.0.0", 24, via: routerA), route("10.30.0.0", 24, via: routerB, table: 100),
    route("10.30.0.0", 24, via: routerC, table: 101),
]

private func view(_ routes: [Route] = tables, rules: [RoutingRule]?) -> NetworkView {
    NetworkView(interfaces: [eth0], routes: routes, neighbours: [], generation: 1, rules: rules)
}

private func gateway(_ view: NetworkView, to destination: IPAddress = server, from source: IPAddress = lipA)
    -> IPAddress?
{
    view.nextHop(to: destination, query: RouteQuery(source: source))?.address
}

private let main = RoutingRule(priority: 32766, action: .lookup(table: 254))

@Suite struct RoutingRuleTests {
    @Test func withoutRulesTheDefaultsLookUpLocalMainAndDefault() {
        let v = view(
            tables + [route("0.0.0.0", 0, via: routerC, table: 253), route("10.40.0.0", 16, via: routerB, table: 100)],
            rules: nil)
        #expect(v.rules == RoutingRule.defaults(v6: false) + RoutingRule.defaults(v6: true))
        #expect(gateway(v) == ip(routerA))
        // Not in main: table default (253) has the default route; table 100 is not consulted.
        #expect(gateway(v, to: ip("10.40.0.1")) == ip(routerC))
        #expect(v.nextHop(to: server) == NextHop(interfaceIndex: 2, address: ip(routerA), mtu: 1500))
        // A throw route in main goes on to table default, as the kernel's rule 32767 does.
        let thrown = view(
            [route("10.30.0.0", 24, via: routerA, kind: .throw), route("0.0.0.0", 0, via: routerC, table: 253)],
            rules: nil)
        #expect(gateway(thrown) == ip(routerC))
        #expect(gateway(view([route("10.30.0.0", 24, via: routerA, kind: .throw)], rules: nil)) == nil)
    }

    @Test func rulesRunInPriorityOrderAndFromSelectsBySource() {
        // Given out of order: evaluation sorts by priority.
        let v = view(rules: [
            main, rule(100, .lookup(table: 100), from: "10.20.0.241/32"), rule(0, .lookup(table: 255)),
        ])
        #expect(gateway(v, from: lipB) == ip(routerB))
        #expect(gateway(v, from: lipA) == ip(routerA))
        // Equal priorities keep the given order.
        let tie = view(rules: [rule(50, .lookup(table: 101)), rule(50, .lookup(table: 100)), main])
        #expect(gateway(tie) == ip(routerC))
        let lower = view(rules: [rule(50, .lookup(table: 101)), rule(40, .lookup(table: 100)), main])
        #expect(gateway(lower) == ip(routerB))
    }

    @Test func toSelectsByDestinationAndNotInverts() {
        let routes = tables + [route("10.31.0.0", 24, via: routerA), route("10.31.0.0", 24, via: routerB, table: 100)]
        let to = view(routes, rules: [rule(10, .lookup(table: 100), to: "10.30.0.0/24"), main])
        #expect(gateway(to) == ip(routerB))
        #expect(gateway(to, to: ip("10.31.0.1")) == ip(routerA))
        let not = view(rules: [rule(10, .lookup(table: 100), from: "10.20.0.240/32", not: true), main])
        #expect(gateway(not, from: lipA) == ip(routerA))
        #expect(gateway(not, from: lipB) == ip(routerB))
    }

    @Test func fwmarkIsMatchedAgainstMarkZeroUnderItsMask() {
        var marked = rule(10, .lookup(table: 100))
        marked.mark = 1
        marked.markMask = 0xFFFF_FFFF
        #expect(gateway(view(rules: [marked, main])) == ip(routerA))
        // fwmark 0x2/0x1: the masked bit is 0, as in mark 0.
        marked.mark = 2
        marked.markMask = 1
        #expect(gateway(view(rules: [marked, main])) == ip(routerB))
        // not fwmark 1: matches every unmarked packet.
        marked.mark = 1
        marked.markMask = 0xFFFF_FFFF
        marked.invert = true
        #expect(gateway(view(rules: [marked, main])) == ip(routerB))
    }

    @Test func gotoJumpsAndNopPasses() {
        let jump = view(rules: [
            rule(10, .goto(priority: 30)), rule(20, .unreachable), rule(30, .lookup(table: 100)), main,
        ])
        #expect(gateway(jump) == ip(routerB))
        // The target is matched like any rule: a target that does not match goes on after it.
        let unmatched = view(rules: [
            rule(10, .goto(priority: 30)), rule(20, .unreachable),
            rule(30, .lookup(table: 100), from: "10.20.0.241/32"), rule(40, .lookup(table: 101)), main,
        ])
        #expect(gateway(unmatched, from: lipA) == ip(routerC))
        // No rule with the target priority: the goto is skipped.
        let unresolved = view(rules: [rule(10, .goto(priority: 25)), rule(20, .unreachable), main])
        #expect(gateway(unresolved) == nil)
        let nop = view(rules: [rule(10, .nop), rule(20, .lookup(table: 101)), main])
        #expect(gateway(nop) == ip(routerC))
    }

    @Test(arguments: [RoutingRule.Action.blackhole, .unreachable, .prohibit])
    func rejectingRulesEndTheLookup(action: RoutingRule.Action) {
        let v = view(rules: [rule(10, action, from: "10.20.0.241/32"), main])
        #expect(gateway(v, from: lipB) == nil)
        #expect(gateway(v, from: lipA) == ip(routerA))
    }

    @Test func aTableWithoutMatchOrWithAThrowRouteFallsThrough() {
        let routes = [
            route("10.30.0.0", 24, via: routerA), route("10.99.0.0", 16, via: routerB, table: 100),
            route("10.30.0.0", 24, via: routerB, table: 102, kind: .throw),
            route("10.30.0.0", 24, via: routerB, table: 103, kind: .reject),
            route("0.0.0.0", 0, via: routerC, table: 103),
        ]
        #expect(gateway(view(routes, rules: [rule(10, .lookup(table: 100)), main])) == ip(routerA))
        // A table with no route at all, as one the kernel does not have.
        #expect(gateway(view(routes, rules: [rule(10, .lookup(table: 200)), main])) == ip(routerA))
        #expect(gateway(view(routes, rules: [rule(10, .lookup(table: 102)), main])) == ip(routerA))
        // A reject route ends the lookup: neither its table's default route nor main is tried.
        #expect(gateway(view(routes, rules: [rule(10, .lookup(table: 103)), main])) == nil)
        // No rule left: no route.
        #expect(gateway(view(routes, rules: [rule(10, .lookup(table: 100))])) == nil)
        #expect(gateway(view(routes, rules: [])) == nil)
    }

    @Test func suppressPrefixLengthZeroSkipsMainsDefaultRoute() {
        // The classic split: `ip rule add table main suppress_prefixlength 0` before a rule whose table
        // has its own default route (a VPN's).
        let routes = [
            route("0.0.0.0", 0, via: routerA), route("10.30.0.0", 24, via: routerB),
            route("0.0.0.0", 0, via: routerC, table: 100),
        ]
        var suppressing = rule(100, .lookup(table: 254))
        suppressing.suppressPrefixLength = 0
        let v = view(routes, rules: [rule(0, .lookup(table: 255)), suppressing, rule(200, .lookup(table: 100)), main])
        #expect(gateway(v) == ip(routerB))
        #expect(gateway(v, to: ip("198.51.100.7")) == ip(routerC))
        // suppress_prefixlength 24 also refuses the /24.
        suppressing.suppressPrefixLength = 24
        #expect(gateway(view(routes, rules: [suppressing, rule(200, .lookup(table: 100)), main])) == ip(routerC))
    }

    @Test func suppressInterfaceGroupSkipsRoutesThroughTheGroup() {
        let grouped = InterfaceInfo(index: 3, mac: MACAddress(0x02_00_00_00_00_03), mtu: 1500, group: 5)
        let routes = [
            Route(prefix: ip("10.30.0.0"), prefixLength: 24, interfaceIndex: 3, gateway: ip(routerA)),
            route("10.30.0.0", 24, via: routerB, table: 100),
        ]
        func via(suppressing group: Int32) -> IPAddress? {
            var suppressing = rule(10, .lookup(table: 254))
            suppressing.suppressInterfaceGroup = group
            let v = NetworkView(
                interfaces: [eth0, grouped], routes: routes, neighbours: [], generation: 1,
                rules: [suppressing, rule(20, .lookup(table: 100)), main])
            return gateway(v)
        }
        #expect(via(suppressing: 5) == ip(routerB))
        #expect(via(suppressing: 6) == ip(routerA))
        #expect(via(suppressing: -1) == ip(routerA))
    }

    @Test func ipProtocolAndPortRangesSelect() {
        var dns = rule(10, .lookup(table: 100))
        dns.ipProtocol = 17
        dns.destinationPorts = 53...53
        var high = rule(20, .lookup(table: 101))
        high.sourcePorts = 40_000...49_999
        let v = view(rules: [dns, high, main])
        func via(_ transport: UInt8, _ sourcePort: UInt16, _ destinationPort: UInt16) -> IPAddress? {
            let query = RouteQuery(
                source: lipA, transport: transport, sourcePort: sourcePort, destinationPort: destinationPort)
            return v.nextHop(to: server, query: query)?.address
        }
        #expect(via(17, 1024, 53) == ip(routerB))
        #expect(via(6, 1024, 53) == ip(routerA))
        #expect(via(17, 1024, 54) == ip(routerA))
        #expect(via(6, 40_000, 80) == ip(routerC))
        #expect(via(6, 49_999, 80) == ip(routerC))
        #expect(via(6, 50_000, 80) == ip(routerA))
    }

    @Test func selectorsOfALocallyOutputPacketAreDecidedOnce() {
        func via(_ change: (inout RoutingRule) -> Void) -> IPAddress? {
            var selective = rule(10, .lookup(table: 100))
            change(&selective)
            return gateway(view(rules: [selective, main]))
        }
        #expect(via { $0.inputInterface = "lo" } == ip(routerB))
        #expect(via { $0.inputInterface = "eth0" } == ip(routerA))
        #expect(via { $0.outputInterface = "eth0" } == ip(routerA))
        #expect(via { $0.uidRange = 0...0 } == ip(routerB))
        #expect(via { $0.uidRange = 1000...2000 } == ip(routerA))
        #expect(via { $0.tos = 0x10 } == ip(routerA))
        #expect(via { $0.dscp = 0 } == ip(routerB))
        #expect(via { $0.l3mdev = true } == ip(routerA))
        #expect(via { $0.tunnelID = 1 } == ip(routerA))
        #expect(
            via {
                $0.outputInterface = "eth0"; $0.invert = true
            } == ip(routerB))
    }

    @Test func eachFamilyHasItsOwnRules() {
        let routes =
            [
                Route(prefix: ip("2001:db8:30::"), prefixLength: 64, interfaceIndex: 2, gateway: ip("fe80::a")),
                Route(
                    prefix: ip("2001:db8:30::"), prefixLength: 64, interfaceIndex: 2, gateway: ip("fe80::b"), table: 100
                ),
            ] + tables
        let v = view(
            routes,
            rules: [
                rule(10, .lookup(table: 100), from: "2001:db8:20::/64"), rule(10, .unreachable, from: "10.20.0.0/24"),
                main, RoutingRule(v6: true, priority: 32766, action: .lookup(table: 254)),
            ])
        let server6 = ip("2001:db8:30::11")
        #expect(gateway(v, to: server6, from: ip("2001:db8:20::240")) == ip("fe80::b"))
        #expect(gateway(v, to: server6, from: ip("2001:db8:21::240")) == ip("fe80::a"))
        #expect(gateway(v, from: lipA) == nil)
        #expect(gateway(v, from: ip("10.21.0.1")) == ip(routerA))
    }

    @Test func theCacheKeyKeepsOnlyWhatRulesSelectBy() {
        let query = RouteQuery(source: lipB, transport: 6, sourcePort: 4000, destinationPort: 80)
        #expect(view(rules: nil).relevantPart(of: query) == RouteQuery(source: IPAddress(v4: 0)))
        let bySource = view(rules: [rule(10, .lookup(table: 100), from: "10.20.0.241/32"), main])
        #expect(bySource.relevantPart(of: query) == RouteQuery(source: lipB))
        var byPort = rule(10, .lookup(table: 100))
        byPort.destinationPorts = 80...80
        #expect(view(rules: [byPort, main]).relevantPart(of: query).destinationPort == 80)
    }

    @Test func theEgressCacheDoesNotServeADecisionMadeForAnotherSource() {
        // The servers via router A, but connections from the second LIP via router B (table 100).
        let macA = MACAddress(0x02_00_00_00_0A_0A)
        let macB = MACAddress(0x02_00_00_00_0B_0B)
        let base = Topology.network()
        let network = NetworkView(
            interfaces: base.interfaces,
            routes: base.routes + [
                Route(prefix: Topology.rs1, prefixLength: 32, interfaceIndex: 2, gateway: ip(routerA)),
                Route(prefix: Topology.rs1, prefixLength: 32, interfaceIndex: 2, gateway: ip(routerB), table: 100),
            ],
            neighbours: base.neighbours + [
                NeighbourEntry(
                    interfaceIndex: 2, address: ip(routerA), mac: macA, state: NeighbourEntry.State.reachable),
                NeighbourEntry(
                    interfaceIndex: 2, address: ip(routerB), mac: macB, state: NeighbourEntry.State.reachable),
            ], generation: 7,
            rules: [rule(100, .lookup(table: 100), from: "10.20.0.241/32"), main])
        var dp = Topology.dataplane(Topology.configuration(weights: [1]))
        var seen: [IPAddress: UInt64] = [:]
        for port in UInt16(20_000)..<20_064 {
            let syn = PacketBuilder().ethernet(src: Topology.clientMAC, dst: Topology.extMAC)
                .ipv4(src: Topology.client, dst: Topology.vip).tcp(sport: port, dport: 80, seq: 1, flags: TCPFlag.syn)
                .build()
            let out = dp.run(syn, from: .external, now: 1, network: network)
            #expect(out.verdict == .transmit(.internal) && out.info.destination == Topology.rs1)
            let expected = out.info.source == lipB ? macB.value : macA.value
            #expect(out.frame.mac(0) == expected)
            seen[out.info.source] = out.frame.mac(0)
        }
        // Both LIPs were used, each through its own router.
        #expect(seen == [lipA: macA.value, lipB: macB.value])
    }
}
