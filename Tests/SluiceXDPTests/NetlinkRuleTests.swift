// RTM_NEWRULE decoding and rule events applied to the mirror's tables. The fixtures are captured: what
// this machine's kernel (6.18) dumped (RTM_GETRULE) in a scratch namespace after the `ip rule` commands
// quoted with each.

import SluiceCore
import SluicePacket
import Testing

@testable import SluiceXDP

private func hex(_ text: String) -> [UInt8] {
    let digits = Array(text.filter { !$0.isWhitespace })
    return stride(from: 0, to: digits.count - 1, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
}

private func message(_ bytes: [UInt8], type: UInt16? = nil) -> NetlinkMessage {
    let (messages, malformed) = NetlinkMessage.split(bytes[...])
    precondition(messages.count == 1 && !malformed)
    var message = messages[0]
    if let type { message.type = type }
    return message
}

private func ip(_ text: String) -> IPAddress { IPAddress(text)! }

enum RuleFixture {
    /// The kernel's `0: from all lookup local` (IPv4).
    static let local = hex(
        "340000002000020001000000d925000002000000ff0000010000000008000f00ff00000008000e00ffffffff0500150002000000")
    /// `ip rule add from 10.20.0.0/24 lookup 100 priority 100`.
    static let fromLIPs = hex(
        """
        440000002000020001000000d925000002001800640000010000000008000f006400000008000e00ffffffff0500150000000000
        0800060064000000080002000a140000
        """)
    /// `ip rule add not fwmark 0x2/0xff iif lo ipproto udp sport 1000-2000 dport 53 table 1000 priority 200
    /// suppress_prefixlength 0 uidrange 0-10`.
    static let selective = hex(
        """
        800000002000020001000000d925000002000000fc0000010200000008000f00e803000008000e00000000000500150000000000
        070003006c6f000008000600c800000008000a000200000008001000ff0000000c001400000000000a00000008001700e803d007
        080018003500350006001d00ffff00000500160011000000
        """)
    /// The kernel's `32766: from all lookup main` (IPv4).
    static let main = hex(
        """
        3c0000002000020001000000d925000002000000fe0000010000000008000f00fe00000008000e00ffffffff0500150002000000
        08000600fe7f0000
        """)
    /// `ip -6 rule add to 2001:db8::/32 goto 300 priority 250`.
    static let goto6 = hex(
        """
        580000002000020001000000d92500000a200000000000020000000008000f000000000008000e00ffffffff0500150000000000
        08000600fa000000080004002c0100001400010020010db8000000000000000000000000
        """)
    /// `ip -6 rule add prohibit priority 300`.
    static let prohibit6 = hex(
        """
        3c0000002000020001000000d92500000a000000000000080000000008000f000000000008000e00ffffffff0500150000000000
        080006002c010000
        """)
}

@Suite struct NetlinkRuleTests {
    @Test func decodesTheDefaultRulesAndAFromRule() throws {
        let local = try #require(NetlinkRule.decode(message(RuleFixture.local).payload))
        #expect(local == RoutingRule(priority: 0, action: .lookup(table: 255)))
        let main = try #require(NetlinkRule.decode(message(RuleFixture.main).payload))
        #expect(main == RoutingRule(priority: 32766, action: .lookup(table: 254)))
        let from = try #require(NetlinkRule.decode(message(RuleFixture.fromLIPs).payload))
        #expect(
            from
                == RoutingRule(
                    priority: 100, action: .lookup(table: 100), source: ip("10.20.0.0"), sourceLength: 24))
    }

    @Test func decodesEverySelectorOfASelectiveRule() throws {
        let rule = try #require(NetlinkRule.decode(message(RuleFixture.selective).payload))
        #expect(rule.priority == 200 && rule.action == .lookup(table: 1000) && !rule.v6)
        #expect(rule.invert)
        #expect(rule.mark == 2 && rule.markMask == 0xFF)
        #expect(rule.inputInterface == "lo" && rule.outputInterface == nil)
        #expect(rule.ipProtocol == 17)
        #expect(rule.sourcePorts == 1000...2000 && rule.sourcePortMask == 0)
        #expect(rule.destinationPorts == 53...53 && rule.destinationPortMask == 0xFFFF)
        #expect(rule.suppressPrefixLength == 0 && rule.suppressInterfaceGroup == -1)
        #expect(rule.uidRange == 0...10)
        #expect(rule.sourceLength == 0 && rule.destinationLength == 0)
    }

    @Test func decodesIPv6GotoAndProhibit() throws {
        let jump = try #require(NetlinkRule.decode(message(RuleFixture.goto6).payload))
        #expect(jump.v6 && jump.priority == 250 && jump.action == .goto(priority: 300))
        #expect(jump.destination == ip("2001:db8::") && jump.destinationLength == 32)
        let prohibit = try #require(NetlinkRule.decode(message(RuleFixture.prohibit6).payload))
        #expect(prohibit == RoutingRule(v6: true, priority: 300, action: .prohibit))
    }

    @Test func refusesWhatDoesNotFitItsFamily() {
        var bytes = RuleFixture.fromLIPs
        bytes[16] = 7  // family
        #expect(NetlinkRule.decode(message(bytes).payload) == nil)
        bytes = RuleFixture.fromLIPs
        bytes[18] = 33  // src_len of an IPv4 rule
        #expect(NetlinkRule.decode(message(bytes).payload) == nil)
        #expect(NetlinkRule.decode(message(RuleFixture.fromLIPs).payload.prefix(8)) == nil)
        // Every truncation is survived (decoded or refused, never a trap).
        for length in 0..<RuleFixture.selective.count {
            _ = NetlinkRule.decode(message(RuleFixture.selective).payload.prefix(length))
        }
    }

    @Test func ruleEventsUpdateTheTablesInKernelOrder() throws {
        var tables = NetlinkTables()
        for bytes in [RuleFixture.local, RuleFixture.main] {
            #expect(tables.apply(message(bytes)) == .changed)
        }
        #expect(tables.apply(message(RuleFixture.fromLIPs)) == .changed)
        #expect(tables.rules.map(\.priority) == [0, 100, 32766])
        // The same rule again (an event replayed over a dump) changes nothing.
        #expect(tables.apply(message(RuleFixture.fromLIPs)) == .unchanged)
        #expect(tables.apply(message(RuleFixture.fromLIPs, type: Netlink.delRule)) == .changed)
        #expect(tables.rules.map(\.priority) == [0, 32766])
        // Deleting a rule the mirror does not hold asks for a dump.
        #expect(tables.apply(message(RuleFixture.fromLIPs, type: Netlink.delRule)) == .resync)
        // With one table named, rules are not followed.
        var one = NetlinkTables(table: 100)
        #expect(one.apply(message(RuleFixture.fromLIPs)) == .unchanged && one.rules.isEmpty)
    }

    @Test func theViewEvaluatesTheMirroredRules() throws {
        let lip = ip("10.20.0.240")
        let server = ip("10.30.0.11")
        func routes() -> [Route] {
            [
                Route(prefix: ip("10.30.0.0"), prefixLength: 24, interfaceIndex: 1, gateway: ip("192.0.2.1")),
                Route(
                    prefix: ip("10.30.0.0"), prefixLength: 24, interfaceIndex: 1, gateway: ip("192.0.2.2"), table: 100),
            ]
        }
        var tables = NetlinkTables()
        // Before any rule is known, the kernel's defaults: main.
        #expect(tables.view(generation: 1).rules == RoutingRule.defaults(v6: false) + RoutingRule.defaults(v6: true))
        for bytes in [RuleFixture.local, RuleFixture.fromLIPs, RuleFixture.main] { _ = tables.apply(message(bytes)) }
        let mirrored = tables.view(generation: 2)
        let view = NetworkView(
            interfaces: [InterfaceInfo(index: 1, mac: MACAddress(0x02_00_00_00_00_01), mtu: 1500)], routes: routes(),
            neighbours: [], generation: 2, rules: mirrored.rules)
        #expect(view.nextHop(to: server, query: RouteQuery(source: lip))?.address == ip("192.0.2.2"))
        #expect(view.nextHop(to: server, query: RouteQuery(source: ip("10.21.0.1")))?.address == ip("192.0.2.1"))
        // Once known, an empty list is the kernel's: nothing routes.
        var emptied = NetlinkTables()
        emptied.rulesKnown = true
        #expect(emptied.view(generation: 1).rules.isEmpty)
        // One table named: a single lookup of it per family.
        #expect(
            NetlinkTables(table: 100).view(generation: 1).rules == [
                RoutingRule(priority: 0, action: .lookup(table: 100)),
                RoutingRule(v6: true, priority: 0, action: .lookup(table: 100)),
            ])
    }
}
