// rtnetlink decoding and encoding on byte fixtures. The fixtures marked "captured" are messages this
// machine's kernel (6.18) sent for `ip` commands in a scratch namespace; the others are built byte by byte
// here. Besides decoding them correctly, the parser must survive every truncation and random garbage.

import SluiceCore
import SluicePacket
import Testing

@testable import SluiceXDP

/// Bytes from hex text; whitespace is ignored.
private func hex(_ text: String) -> [UInt8] {
    let digits = text.unicodeScalars.filter { !$0.properties.isWhitespace }.map { Character($0) }
    return stride(from: 0, to: digits.count - 1, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
}

private func v4(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32) -> IPAddress {
    IPAddress(v4: a << 24 | b << 16 | c << 8 | d)
}

/// The single message of a one-message fixture.
private func only(_ bytes: [UInt8]) -> NetlinkMessage {
    let (messages, malformed) = NetlinkMessage.split(bytes[...])
    precondition(messages.count == 1 && !malformed)
    return messages[0]
}

/// Captured fixtures.
enum NetlinkFixture {
    /// RTM_NEWLINK for veth nlp0: ifindex 3, 86:59:c2:95:95:8f, MTU 1500, UP|LOWER_UP (1496 bytes).
    static let link = hex(
        """
        d805000010000200070000001103000000000100030000004310010000000000090003006e6c70300000000008000d00
        e803000005001000060000000500110000000000050043000000000008000400dc050000080032004400000008003300
        ffff000008001b000000000008001e000000000008003d000000000008001f000200000008002800ffff000008002900
        0000010008003a000000010008003f0000000100080040000000010008003b00f8ff070008003c00ffff000008004200
        0000000008002000020000000500210001000000080023000200000008002f0001000000080030000100000006004400
        00000000060045000000000005002700000000000a0001008659c295958f00000a000200ffffffffffff0000cc001700
        0c000000000000001200000000000000a803000000000000480500000000000000000000000000000000000000000000
        000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
        000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
        000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
        0000000000000000640007000c00000012000000a8030000480500000000000000000000000000000000000000000000
        000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
        0000000000000000000000000c002b000500020000000000100012000900010076657468000000000800050002000000
        0c0006006e6f71756575650030031a008c00020088000100000000000000000000000000010000000100000001000000
        010000000000000001000000000000000000000000000000000000000000000000000000000000000000000000000000
        000000000000000000000000000000000000000000000000000000000000000010270000e80300000000000000000000
        000000000000000001000000a0020a00080001001000008014000500ffff0000ded80000284f0000e8030000f4000200
        0000000040000000dc05000001000000010000000100000001000000ffffffffa00f0000e803000000000000803a0900
        805101000300000058020000100000000000000001000000010000000100000060ea0000000000000000000000000000
        00000000000000000000000001000000000000000000000010270000e803000001000000000000000000000001000000
        0000000000000000010000000000000000000000000000000000000080ee360000000000000000000100000000000000
        000000000000000000000000000000000004000000000000ffff0000ffffffff01000000000000000000000000000000
        3401030026000000000000000c00000000000000000300000000000000000000000000000c0000000000000000000000
        00000000000000000000000000000000000000000f000000000000000f00000000000000f80300000000000000000000
        000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
        000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
        0000000000000000000000000000000000000000000000000000000000000000000000000c000000000000000f000000
        00000000000000000000000000000000000000000003000000000000f803000000000000000000000000000000000000
        00000000000000000000000000000000000000003c000600070000000000000000000000000000000000000000000000
        0f0000000000000000000000000000000000000000000000000000000000000014000700000000000000000000000000
        00000000050008000000000024000e000000000000000000000000000000000000000000000000000000000000000000
        04003e8004004180
        """)
    /// 10.66.0.0/24 dev nlp0 proto kernel scope link src 10.66.0.1 (table main).
    static let connectedRoute = hex(
        "3c00000018000200070000009c7e000002180000fe02fd010000000008000f00fe000000080001000a420000"
            + "080007000a4200010800040003000000")
    /// 10.88.0.0/16 via 10.66.0.2 dev nlp0 metric 50 mtu 1400.
    static let gatewayRoute = hex(
        "5000000018000200070000009c7e000002100000fe0300010000000008000f00fe000000080001000a580000"
            + "08000600320000000c0008000800020078050000080005000a4200020800040003000000")
    /// 10.89.0.0/16 nexthop via 10.66.0.3 dev nlp0 (3) nexthop via 10.67.0.3 dev nlp2 (5).
    static let multipathRoute = hex(
        "5000000018000200070000009c7e000002100000fe0300010000000008000f00fe000000080001000a590000"
            + "240009001000000003000000080005000a4200031000000005000000080005000a430003")
    /// blackhole 10.90.0.0/16.
    static let blackholeRoute = hex(
        "2c00000018000200070000009c7e000002100000fe0300060000000008000f00fe000000080001000a5a0000")
    /// local 10.66.0.1 dev nlp0 table local.
    static let localRoute = hex(
        "3c00000018000200070000009c7e000002200000ff02fe020000000008000f00ff000000080001000a420001"
            + "080007000a4200010800040003000000")
    /// fd88::/32 via fd66::2 dev nlp0 metric 7.
    static let ipv6Route = hex(
        "880000001800020007000000877f00000a200000fe0300010000000008000f00fe00000014000100fd880000"
            + "000000000000000000000000080006000700000014000500fd66000000000000000000000000000208000400"
            + "0300000024000c00000000000000000000000000000000000000000000000000000000000000000005001400"
            + "00000000")
    /// 10.91.0.0/16 via inet6 fd66::2 dev nlp0 (RTA_VIA).
    static let viaRoute = hex(
        "4c00000018000200070000002d01000002100000fe0300010000000008000f00fe000000080001000a5b0000"
            + "160012000a00fd66000000000000000000000000000200000800040003000000")
    /// 10.66.0.9 dev nlp0 lladdr 02:00:00:00:00:09 PERMANENT.
    static let permanentNeighbour = hex(
        "4c0000001c00020007000000d37e0000020000000300000080000001080001000a4200090a000200020000000009"
            + "0000080004000000000014000300b7000000b7000000b700000000000000")
    /// 10.66.0.7 dev nlp0 FAILED (no lladdr).
    static let failedNeighbour = hex(
        "400000001c00020007000000d37e0000020000000300000020000001080001000a42000708000400060000001400"
            + "0300a1f4000031dd000000dc000000000000")
    /// fd66::9 dev nlp0 lladdr 02:00:00:00:00:0a REACHABLE.
    static let ipv6Neighbour = hex(
        "580000001c00020007000000c87f00000a000000030000000200000114000100fd660000000000000000000000"
            + "0000090a00020002000000000a000008000400000000001400030088000000880000008800000001000000")
}

@Suite struct NetlinkMessageTests {
    @Test func splitsADatagramIntoPaddedMessages() {
        // Two messages: a 17-byte NOOP (padded to 20) and a DONE.
        var bytes = [UInt8](repeating: 0, count: 36)
        bytes[0] = 17
        bytes[4] = 1
        bytes[8] = 5
        bytes[16] = 0xAB
        bytes[20] = 16
        bytes[24] = 3
        bytes[26] = 0x02
        let (messages, malformed) = NetlinkMessage.split(bytes[...])
        #expect(!malformed)
        #expect(messages.count == 2)
        #expect(messages[0].type == 1 && messages[0].sequence == 5 && Array(messages[0].payload) == [0xAB])
        #expect(messages[1].type == 3 && messages[1].flags == 2 && messages[1].payload.isEmpty)
    }

    @Test(arguments: [
        [UInt8](repeating: 0, count: 16),  // length 0 < header
        [15, 0, 0, 0] + [UInt8](repeating: 0, count: 12),  // length shorter than a header
        [17, 0, 0, 0] + [UInt8](repeating: 0, count: 12),  // longer than the datagram
        [0xFF, 0xFF, 0xFF, 0x7F] + [UInt8](repeating: 0, count: 12),  // huge
        [16, 0, 0, 0, 3, 0],  // short header
    ])
    func rejectsMessagesWhoseLengthDoesNotFit(bytes: [UInt8]) {
        let (messages, malformed) = NetlinkMessage.split(bytes[...])
        #expect(messages.isEmpty)
        #expect(malformed)
    }

    @Test func keepsTheMessagesBeforeAMalformedTail() {
        let bytes = NetlinkFixture.blackholeRoute + [0x40, 0, 0, 0, 24, 0]
        let (messages, malformed) = NetlinkMessage.split(bytes[...])
        #expect(messages.count == 1)
        #expect(malformed)
    }

    @Test func decodesErrorsAndAcknowledgements() {
        var ack = NetlinkMessage(type: 2, flags: 0, sequence: 1, portID: 0, payload: [0, 0, 0, 0][...])
        #expect(ack.errorCode == 0)
        ack.payload = [0xEA, 0xFF, 0xFF, 0xFF][...]  // -22
        #expect(ack.errorCode == 22)
        ack.payload = [0xEA, 0xFF][...]
        #expect(ack.errorCode == nil)
        ack.type = 3
        ack.payload = [0, 0, 0, 0][...]
        #expect(ack.errorCode == nil)
    }

    @Test func attributeIterationStopsAtABadLength() {
        // A valid 5-byte attribute (padded to 8), then one claiming 2 bytes (shorter than its header).
        let bytes: [UInt8] = [5, 0, 7, 0, 0x42, 0, 0, 0, 2, 0, 9, 0, 1, 2, 3, 4]
        let attributes = Array(NetlinkAttributes(bytes[...]))
        #expect(attributes.count == 1)
        #expect(attributes.first?.type == 7 && Array(attributes.first!.value) == [0x42])
        // One claiming more bytes than remain.
        #expect(Array(NetlinkAttributes([12, 0, 1, 0, 1, 2, 3, 4][...])).isEmpty)
        // The nested and byte-order flags are not part of the type.
        #expect(Array(NetlinkAttributes([4, 0, 0x08, 0x80][...])).first?.type == 8)
    }

    @Test func decodesACapturedLink() throws {
        let link = try #require(NetlinkLink.decode(only(NetlinkFixture.link).payload))
        #expect(link.index == 3)
        #expect(link.name == "nlp0")
        #expect(link.mac == MACAddress(0x86, 0x59, 0xC2, 0x95, 0x95, 0x8F))
        #expect(link.mtu == 1500)
        #expect(link.flags & 0x1 != 0 && link.flags & 0x10000 != 0)
    }

    @Test func ignoresBridgePortLinkMessagesAndShortOnes() {
        var payload = Array(only(NetlinkFixture.link).payload)
        payload[0] = 7  // AF_BRIDGE
        #expect(NetlinkLink.decode(payload[...]) == nil)
        #expect(NetlinkLink.decode(only(NetlinkFixture.link).payload.prefix(15)) == nil)
    }

    @Test func decodesACapturedConnectedRoute() throws {
        let route = try #require(NetlinkRoute.decode(only(NetlinkFixture.connectedRoute).payload))
        #expect(route.destination == v4(10, 66, 0, 0) && route.prefixLength == 24)
        #expect(route.table == 254 && route.type == 1 && route.kind == .unicast)
        #expect(route.interfaceIndex == 3 && route.gateway == nil && route.priority == 0)
        #expect(route.belongs(to: 254, requireAlive: true))
        #expect(!route.belongs(to: 100, requireAlive: true))
    }

    @Test func decodesACapturedGatewayRouteWithMetricAndMTU() throws {
        let route = try #require(NetlinkRoute.decode(only(NetlinkFixture.gatewayRoute).payload))
        #expect(route.destination == v4(10, 88, 0, 0) && route.prefixLength == 16)
        #expect(route.gateway == v4(10, 66, 0, 2) && route.interfaceIndex == 3)
        #expect(route.priority == 50 && route.mtu == 1400)
        #expect(
            route.route
                == Route(
                    prefix: v4(10, 88, 0, 0), prefixLength: 16, interfaceIndex: 3, gateway: v4(10, 66, 0, 2), mtu: 1400,
                    metric: 50))
    }

    @Test func keepsTheLiveNextHopsOfAMultipathRouteWithTheirWeights() throws {
        let route = try #require(NetlinkRoute.decode(only(NetlinkFixture.multipathRoute).payload))
        #expect(route.interfaceIndex == 3 && route.gateway == v4(10, 66, 0, 3) && route.alive)
        #expect(
            route.hops == [
                RouteHop(interfaceIndex: 3, gateway: v4(10, 66, 0, 3), weight: 1),
                RouteHop(interfaceIndex: 5, gateway: v4(10, 67, 0, 3), weight: 1),
            ])
        #expect(route.route.hops.count == 2)
        // rtnh_hops of the second next hop = 2: weight 3.
        var weighted = NetlinkFixture.multipathRoute
        weighted[16 + 12 + 8 + 8 + 4 + 16 + 3] = 2
        #expect(try #require(NetlinkRoute.decode(only(weighted).payload)).hops.last?.weight == 3)
        // Mark the first next hop dead: rtnh_flags of the first struct rtnexthop, after the nlmsghdr (16),
        // the rtmsg (12), RTA_TABLE (8), RTA_DST (8) and RTA_MULTIPATH's own header (4).
        let firstNextHop = 16 + 12 + 8 + 8 + 4
        var bytes = NetlinkFixture.multipathRoute
        bytes[firstNextHop + 2] = 0x01
        let second = try #require(NetlinkRoute.decode(only(bytes).payload))
        #expect(second.interfaceIndex == 5 && second.gateway == v4(10, 67, 0, 3) && second.alive)
        #expect(second.hops.isEmpty)  // one live next hop left: a plain route
        bytes[firstNextHop + 16 + 2] = 0x01
        let dead = try #require(NetlinkRoute.decode(only(bytes).payload))
        #expect(!dead.alive && !dead.belongs(to: 254, requireAlive: true))
    }

    @Test func classifiesRouteTypes() throws {
        let blackhole = try #require(NetlinkRoute.decode(only(NetlinkFixture.blackholeRoute).payload))
        #expect(blackhole.kind == .reject && blackhole.belongs(to: 254, requireAlive: true))
        let local = try #require(NetlinkRoute.decode(only(NetlinkFixture.localRoute).payload))
        #expect(local.kind == nil && local.table == 255 && !local.belongs(to: 255, requireAlive: true))
        #expect(!local.belongs(to: nil, requireAlive: true))
        // RTN_THROW (rtm_type is the payload's eighth byte): kept, and the rules go on past it.
        var thrown = NetlinkFixture.blackholeRoute
        thrown[Netlink.headerSize + 7] = Netlink.typeThrow
        let throwRoute = try #require(NetlinkRoute.decode(only(thrown).payload))
        #expect(throwRoute.kind == .throw && throwRoute.belongs(to: nil, requireAlive: true))
    }

    @Test func decodesACapturedIPv6RouteAndAnIPv4RouteViaIPv6() throws {
        let route = try #require(NetlinkRoute.decode(only(NetlinkFixture.ipv6Route).payload))
        #expect(route.destination == IPAddress(v6High: 0xFD88_0000_0000_0000, low: 0) && route.prefixLength == 32)
        #expect(route.gateway == IPAddress(v6High: 0xFD66_0000_0000_0000, low: 2) && route.priority == 7)
        let via = try #require(NetlinkRoute.decode(only(NetlinkFixture.viaRoute).payload))
        #expect(via.destination == v4(10, 91, 0, 0))
        #expect(via.gateway == IPAddress(v6High: 0xFD66_0000_0000_0000, low: 2) && via.interfaceIndex == 3)
    }

    @Test func rejectsRoutesThatDoNotFitTheirFamily() {
        var tooLong = NetlinkFixture.gatewayRoute
        tooLong[17] = 33  // rtm_dst_len
        #expect(NetlinkRoute.decode(only(tooLong).payload) == nil)
        var wrongFamily = NetlinkFixture.gatewayRoute
        wrongFamily[16] = 7
        #expect(NetlinkRoute.decode(only(wrongFamily).payload) == nil)
        var shortDestination = NetlinkFixture.gatewayRoute
        shortDestination[36] = 7  // RTA_DST of 3 bytes
        #expect(NetlinkRoute.decode(only(shortDestination).payload) == nil)
    }

    @Test func decodesCapturedNeighbours() throws {
        let permanent = try #require(NetlinkNeighbour.decode(only(NetlinkFixture.permanentNeighbour).payload))
        #expect(
            permanent
                == NeighbourEntry(
                    interfaceIndex: 3, address: v4(10, 66, 0, 9), mac: MACAddress(2, 0, 0, 0, 0, 9), state: 0x80))
        let failed = try #require(NetlinkNeighbour.decode(only(NetlinkFixture.failedNeighbour).payload))
        #expect(failed.state == 0x20 && failed.mac == .zero && !failed.isUsable)
        let v6 = try #require(NetlinkNeighbour.decode(only(NetlinkFixture.ipv6Neighbour).payload))
        #expect(v6.address == IPAddress(v6High: 0xFD66_0000_0000_0000, low: 9))
        #expect(v6.mac == MACAddress(2, 0, 0, 0, 0, 0x0A) && v6.state == 0x02)
    }

    @Test func skipsProxyAndBridgeNeighbours() {
        var proxy = NetlinkFixture.permanentNeighbour
        proxy[16 + 10] |= 0x08
        #expect(NetlinkNeighbour.decode(only(proxy).payload) == nil)
        var bridge = NetlinkFixture.permanentNeighbour
        bridge[16] = 7
        #expect(NetlinkNeighbour.decode(only(bridge).payload) == nil)
    }

    @Test func encodesADumpRequest() {
        #expect(
            NetlinkRequest.dump(26, family: 10, sequence: 0x0102_0304)
                == hex("1c000000 1a00 0103 04030201 00000000 0a000000 00000000 00000000"))
        #expect(
            NetlinkRequest.dump(18, family: 0, sequence: 1)
                == hex("20000000 1200 0103 01000000 00000000 00000000 00000000 00000000 00000000"))
    }

    @Test func encodesAResolutionRequest() {
        let v4Request = NetlinkRequest.resolve(v4(10, 66, 0, 7), interfaceIndex: 3, sequence: 9)
        #expect(
            v4Request == hex("24000000 1c00 0504 09000000 00000000 02000000 03000000 0000 01 00 0800 0100 0a420007"))
        let v6Request = NetlinkRequest.resolve(
            IPAddress(v6High: 0xFD66_0000_0000_0000, low: 9), interfaceIndex: 0x0102, sequence: 1)
        #expect(
            v6Request
                == hex(
                    "30000000 1c00 0504 01000000 00000000 0a000000 02010000 0000 01 00 1400 0100"
                        + "fd660000 00000000 00000000 00000009"))
    }

    @Test func requestsRoundTripThroughTheParser() throws {
        let message = only(NetlinkRequest.resolve(v4(192, 0, 2, 1), interfaceIndex: 7, sequence: 3))
        let entry = try #require(NetlinkNeighbour.decode(message.payload))
        #expect(entry.address == v4(192, 0, 2, 1) && entry.interfaceIndex == 7)
        #expect(message.flags == 0x405)
    }

    /// Every prefix of every fixture, alone and concatenated: no trap, and a prefix never yields a
    /// message the full fixture does not contain.
    @Test func survivesEveryTruncation() {
        let fixtures = [
            NetlinkFixture.link, NetlinkFixture.connectedRoute, NetlinkFixture.gatewayRoute,
            NetlinkFixture.multipathRoute, NetlinkFixture.blackholeRoute,
            NetlinkFixture.ipv6Route, NetlinkFixture.viaRoute, NetlinkFixture.permanentNeighbour,
            NetlinkFixture.ipv6Neighbour,
        ]
        let all = fixtures.reduce([], +)
        for bytes in fixtures + [all] {
            for end in 0...bytes.count {
                let (messages, malformed) = NetlinkMessage.split(bytes[..<end])
                #expect(messages.count <= fixtures.count)
                if end < bytes.count && messages.isEmpty { #expect(malformed || end == 0) }
                var tables = NetlinkTables()
                for message in messages { _ = tables.apply(message) }
                // The decoders on a truncated payload, whatever the header claims.
                if end > Netlink.headerSize {
                    let payload = bytes[Netlink.headerSize..<end]
                    _ = NetlinkLink.decode(payload)
                    _ = NetlinkRoute.decode(payload)
                    _ = NetlinkNeighbour.decode(payload)
                }
            }
        }
    }

    /// Random bytes, and fixtures with random bytes flipped: no trap.
    @Test func survivesGarbage() {
        var state: UInt64 = 0x1234_5678
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15  // wraps by design (splitmix64)
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let fixtures = [
            NetlinkFixture.link, NetlinkFixture.gatewayRoute, NetlinkFixture.multipathRoute, NetlinkFixture.viaRoute,
            NetlinkFixture.ipv6Neighbour,
        ]
        for round in 0..<2000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int(next() % 200)).map { _ in UInt8(truncatingIfNeeded: next()) }
            } else {
                bytes = fixtures[Int(next() % UInt64(fixtures.count))]
                for _ in 0..<4 { bytes[Int(next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: next()) }
            }
            var tables = NetlinkTables()
            for message in NetlinkMessage.split(bytes[...]).messages {
                _ = tables.apply(message)
                _ = message.errorCode
            }
            _ = tables.view(generation: 1)
        }
    }
}
