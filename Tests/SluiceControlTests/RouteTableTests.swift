// `interfaces.route_table`: absent by default (the host's ip rules pick the table, as the kernel would);
// when set, the one kernel routing table the data plane routes by (a VRF's), rules not evaluated: any
// table id but 0 and the local table 255, main included, and a change needs a restart (the rtnetlink
// mirror is started for it).

import SluiceControl
import Testing

@Suite struct RouteTableTests {
    @Test func rulesByDefaultAndAnyTableByNumber() throws {
        #expect(try parsed(template()).interfaces.routeTable == nil)
        let main = template().replacingOccurrences(
            of: "  internal: int0\n", with: "  internal: int0\n  route_table: 254\n")
        #expect(try parsed(main).interfaces.routeTable == 254)
        let vrf = template().replacingOccurrences(
            of: "  internal: int0\n", with: "  internal: int0\n  route_table: 100\n")
        #expect(try parsed(vrf).interfaces.routeTable == 100)
        let high = template().replacingOccurrences(
            of: "  internal: int0\n", with: "  internal: int0\n  route_table: 4294967295\n")
        #expect(try parsed(high).interfaces.routeTable == 4_294_967_295)
    }

    @Test(arguments: ["0", "255", "4294967296", "main", "-1"])
    func otherValuesAreRefused(value: String) {
        let yaml = template().replacingOccurrences(
            of: "  internal: int0\n", with: "  internal: int0\n  route_table: \(value)\n")
        #expect(problems(yaml).map(\.keyPath) == ["interfaces.route_table"])
    }

    @Test func theStartupSummarySaysWhenOneTableIsNamed() throws {
        let rules = try parsed(template())
        #expect(!StartupSummary.describe(rules).contains { $0.contains("route_table") })
        var named = rules
        named.interfaces.routeTable = 100
        #expect(
            StartupSummary.describe(named).contains(
                "routes from kernel table 100 alone, ip rules not evaluated (interfaces.route_table)"))
    }

    @Test func aChangeNeedsARestart() throws {
        let old = try parsed(template())
        var new = old
        new.interfaces.routeTable = 100
        #expect(ReloadDiff(from: old, to: new).restartRequired == ["interfaces"])
    }
}
