// Applying rtnetlink dumps and events to the mirror's tables, on the captured fixtures of
// NetlinkMessageTests: what changes the view, what is ignored, and what forces a re-dump.

import SluiceCore
import SluicePacket
import Testing

@testable import SluiceXDP

private func v4(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32) -> IPAddress {
    IPAddress(v4: a << 24 | b << 16 | c << 8 | d)
}

private let fd66 = IPAddress(v6High: 0xFD66_0000_0000_0000, low: 2)

/// The fixture as one message, optionally with another type, header flags, or patched bytes.
private func message(
    _ bytes: [UInt8], type: UInt16? = nil, flags: UInt16 = 0, patch: [Int: UInt8] = [:]
) -> NetlinkMessage {
    var bytes = bytes
    for (offset, value) in patch { bytes[offset] = value }
    var message = NetlinkMessage.split(bytes[...]).messages[0]
    if let type { message.type = type }
    message.flags = flags
    return message
}

/// Offset of the first occurrence of `pattern` in `bytes`.
private func offset(of pattern: [UInt8], in bytes: [UInt8]) -> Int {
    (0...(bytes.count - pattern.count)).first { Array(bytes[$0..<($0 + pattern.count)]) == pattern }!
}

/// The link, routes and neighbours of the fixtures, as a dump would deliver them.
private func dumped() -> NetlinkTables {
    var tables = NetlinkTables()
    for bytes in [
        NetlinkFixture.link, NetlinkFixture.connectedRoute, NetlinkFixture.gatewayRoute, NetlinkFixture.multipathRoute,
        NetlinkFixture.blackholeRoute, NetlinkFixture.localRoute, NetlinkFixture.ipv6Route, NetlinkFixture.viaRoute,
        NetlinkFixture.permanentNeighbour, NetlinkFixture.failedNeighbour, NetlinkFixture.ipv6Neighbour,
    ] {
        _ = tables.apply(message(bytes, flags: 0x02))
    }
    return tables
}

// Byte offsets in NetlinkFixture.gatewayRoute: rtm_table, rtm_flags, RTA_TABLE's value, the last byte of
// RTA_GATEWAY's value.
private let routeTableByte = 20
private let routeFlagsByte = 25
private let routeTableAttributeByte = 32
private let gatewayLastByte = 71

@Suite struct NetlinkTablesTests {
    @Test func aDumpBuildsTheView() throws {
        let view = dumped().view(generation: 4)
        #expect(view.generation == 4)
        let nlp0 = try #require(view.interface(3))
        #expect(nlp0.mac == MACAddress(0x86, 0x59, 0xC2, 0x95, 0x95, 0x8F) && nlp0.mtu == 1500)
        #expect(view.interfaceIndex(named: "nlp0") == 3)
        #expect(view.nextHop(to: v4(10, 66, 0, 5)) == NextHop(interfaceIndex: 3, address: v4(10, 66, 0, 5), mtu: 1500))
        #expect(view.nextHop(to: v4(10, 88, 1, 1)) == NextHop(interfaceIndex: 3, address: v4(10, 66, 0, 2), mtu: 1400))
        #expect(view.nextHop(to: v4(10, 89, 1, 1)) == NextHop(interfaceIndex: 3, address: v4(10, 66, 0, 3), mtu: 1500))
        #expect(view.nextHop(to: v4(10, 90, 1, 1)) == nil)
        #expect(view.nextHop(to: v4(10, 91, 1, 1)) == NextHop(interfaceIndex: 3, address: fd66, mtu: 1500))
        let v6 = IPAddress(v6High: 0xFD88_0000_0001_0000, low: 1)
        #expect(view.nextHop(to: v6) == NextHop(interfaceIndex: 3, address: fd66, mtu: 1500))
        #expect(view.neighbour(v4(10, 66, 0, 9), on: 3) == MACAddress(2, 0, 0, 0, 0, 9))
        #expect(view.neighbour(v4(10, 66, 0, 7), on: 3) == nil)
        #expect(
            view.neighbour(IPAddress(v6High: 0xFD66_0000_0000_0000, low: 9), on: 3) == MACAddress(2, 0, 0, 0, 0, 10))
        #expect(view.neighbours.count == 3)
        // The local-table route is not mirrored; the other six are.
        #expect(view.routes.count == 6)
        #expect(!view.routes.contains { $0.prefix == v4(10, 66, 0, 1) && $0.prefixLength == 32 })
    }

    @Test func equalTablesGiveEqualViewsWhateverTheOrder() {
        var reversed = NetlinkTables()
        for bytes in [NetlinkFixture.viaRoute, NetlinkFixture.gatewayRoute, NetlinkFixture.link] {
            _ = reversed.apply(message(bytes))
        }
        var forward = NetlinkTables()
        for bytes in [NetlinkFixture.link, NetlinkFixture.gatewayRoute, NetlinkFixture.viaRoute] {
            _ = forward.apply(message(bytes))
        }
        #expect(forward == reversed)
        #expect(forward.view(generation: 1).routes == reversed.view(generation: 1).routes)
    }

    @Test func routeEventsAddAndRemove() {
        var tables = dumped()
        let added = message(NetlinkFixture.gatewayRoute, patch: [gatewayLastByte: 9])
        #expect(tables.apply(added) == .changed)
        #expect(tables.apply(added) == .unchanged)
        // Without NLM_F_REPLACE the two next hops of 10.88/16 coexist (like `ip route append`).
        #expect(tables.routes.filter { $0.destination == v4(10, 88, 0, 0) }.count == 2)
        #expect(tables.apply(message(NetlinkFixture.gatewayRoute, type: Netlink.delRoute)) == .changed)
        #expect(tables.view(generation: 1).nextHop(to: v4(10, 88, 0, 1))?.address == v4(10, 66, 0, 9))
        #expect(tables.apply(message(NetlinkFixture.gatewayRoute, type: Netlink.delRoute)) == .resync)
    }

    @Test func aReplaceSwapsEveryRouteOfTheSameKey() {
        var tables = dumped()
        let replacement = message(NetlinkFixture.gatewayRoute, flags: Netlink.flagReplace, patch: [gatewayLastByte: 9])
        #expect(tables.apply(replacement) == .changed)
        let routes = tables.routes.filter { $0.destination == v4(10, 88, 0, 0) }
        #expect(routes.map(\.gateway) == [v4(10, 66, 0, 9)])
    }

    @Test func routesOfOtherTablesAndClonesAreIgnored() {
        // One table named: routes of the others are not kept.
        var tables = NetlinkTables(table: 254)
        let otherTable = message(
            NetlinkFixture.gatewayRoute, patch: [routeTableByte: 100, routeTableAttributeByte: 100])
        #expect(tables.apply(otherTable) == .unchanged)
        #expect(tables.apply(message(NetlinkFixture.localRoute)) == .unchanged)
        let cloned = message(NetlinkFixture.gatewayRoute, patch: [routeFlagsByte: 0x02])
        #expect(tables.apply(cloned) == .unchanged)
        #expect(tables.routes.isEmpty)
        var mirrorOfTable100 = NetlinkTables(table: 100)
        #expect(mirrorOfTable100.apply(otherTable) == .changed)
    }

    @Test func everyTableIsKeptWhenRulesAreEvaluated() {
        var tables = NetlinkTables()
        let otherTable = message(
            NetlinkFixture.gatewayRoute, patch: [routeTableByte: 100, routeTableAttributeByte: 100])
        #expect(tables.apply(otherTable) == .changed)
        #expect(tables.apply(message(NetlinkFixture.gatewayRoute)) == .changed)
        // The same prefix in two tables: two routes, each tagged with its table.
        #expect(tables.routes.map(\.table).sorted() == [100, 254])
        // The local table's local and broadcast routes are still left out.
        #expect(tables.apply(message(NetlinkFixture.localRoute)) == .unchanged)
        // A delete in one table leaves the other's route.
        #expect(tables.apply(message(NetlinkFixture.gatewayRoute, type: Netlink.delRoute)) == .changed)
        #expect(tables.routes.map(\.table) == [100])
        #expect(tables.view(generation: 1).routes.map(\.table) == [100])
    }

    @Test func aRouteWhoseNextHopDiedIsRemoved() {
        var tables = dumped()
        let dead = message(NetlinkFixture.gatewayRoute, patch: [routeFlagsByte - 1: 0x01])
        #expect(tables.apply(dead) == .changed)
        #expect(tables.view(generation: 1).nextHop(to: v4(10, 88, 0, 1)) == nil)
    }

    @Test func linkEvents() throws {
        var tables = dumped()
        #expect(tables.apply(message(NetlinkFixture.link)) == .unchanged)
        let mtuValue = offset(of: [8, 0, 4, 0, 0xDC, 0x05], in: NetlinkFixture.link) + 4
        let smallerMTU = message(NetlinkFixture.link, patch: [mtuValue: 0x78])  // 0x578 = 1400
        #expect(tables.apply(smallerMTU) == .changed)
        #expect(tables.view(generation: 1).interface(3)?.mtu == 1400)
        // IFF_UP cleared: the kernel flushes IPv4 routes without telling, so re-dump.
        let down = message(NetlinkFixture.link, patch: [mtuValue: 0x78, 24: 0x42])
        #expect(tables.apply(down) == .resync)
        #expect(tables.apply(message(NetlinkFixture.link, type: Netlink.delLink)) == .resync)
        let view = tables.view(generation: 2)
        #expect(view.interface(3) == nil)
        #expect(view.neighbours.isEmpty)
        #expect(view.routes.allSatisfy { $0.interfaceIndex != 3 })
    }

    @Test func neighbourEvents() {
        var tables = NetlinkTables()
        let address = v4(10, 66, 0, 9)
        #expect(tables.apply(message(NetlinkFixture.permanentNeighbour)) == .changed)
        #expect(tables.apply(message(NetlinkFixture.permanentNeighbour)) == .unchanged)
        #expect(tables.view(generation: 1).neighbour(address, on: 3) == MACAddress(2, 0, 0, 0, 0, 9))
        // The same entry going FAILED (NUD state at payload offset 8).
        let failed = message(NetlinkFixture.permanentNeighbour, patch: [16 + 8: 0x20])
        #expect(tables.apply(failed) == .changed)
        #expect(tables.view(generation: 2).neighbour(address, on: 3) == nil)
        let deleted = message(NetlinkFixture.permanentNeighbour, type: Netlink.delNeighbour)
        #expect(tables.apply(deleted) == .changed)
        #expect(tables.apply(deleted) == .unchanged)
        #expect(tables.neighbours.isEmpty)
    }

    @Test func lostEventsAndUnknownMessagesAreHandled() {
        var tables = dumped()
        let overrun = NetlinkMessage(type: Netlink.typeOverrun, flags: 0, sequence: 0, portID: 0, payload: [])
        #expect(tables.apply(overrun) == .resync)
        let address = NetlinkMessage(type: 20, flags: 0, sequence: 0, portID: 0, payload: [2, 24, 0, 0, 3, 0, 0, 0])
        #expect(tables.apply(address) == .unchanged)
        let truncated = NetlinkMessage(type: Netlink.newRoute, flags: 0, sequence: 0, portID: 0, payload: [2, 24])
        #expect(tables.apply(truncated) == .unchanged)
        #expect(tables == dumped())
    }
}
