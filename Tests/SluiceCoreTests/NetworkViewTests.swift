// NetworkView lookups: longest prefix match, metrics, families, reject routes, MTU resolution,
// neighbour states, and a randomised comparison of the hash-per-length lookup with a brute-force scan.

import SluiceCore
import SluicePacket
import Testing

/// Parses dotted-quad IPv4 or RFC 4291 text IPv6 (with "::"); traps on bad test input.
private func ip(_ text: String) -> IPAddress {
    if !text.contains(":") {
        let octets = text.split(separator: ".").map { UInt32($0)! }
        precondition(octets.count == 4)
        return IPAddress(v4: octets.reduce(0) { $0 << 8 | $1 })
    }
    let gap = text.firstRange(of: "::")
    let headText = gap.map { text[..<$0.lowerBound] } ?? text[...]
    let tailText = gap.map { text[$0.upperBound...] } ?? ""
    let head = headText.split(separator: ":").map { UInt64($0, radix: 16)! }
    let tail = tailText.split(separator: ":").map { UInt64($0, radix: 16)! }
    let groups = head + [UInt64](repeating: 0, count: 8 - head.count - tail.count) + tail
    precondition(groups.count == 8)
    let high = groups[0..<4].reduce(0) { $0 << 16 | $1 }
    let low = groups[4..<8].reduce(0) { $0 << 16 | $1 }
    return IPAddress(v6High: high, low: low)
}

private let eth0 = InterfaceInfo(index: 2, mac: MACAddress(0x02_00_00_00_00_02), mtu: 1500)
private let eth1 = InterfaceInfo(index: 3, mac: MACAddress(0x02_00_00_00_00_03), mtu: 9000)
private let peerMAC = MACAddress(0x02_AA_BB_CC_DD_EE)

private func route(
    _ prefix: String, _ length: UInt8, via gateway: String? = nil, dev: InterfaceInfo = eth0, metric: UInt32 = 0,
    mtu: Int = 0, kind: Route.Kind = .unicast
) -> Route {
    Route(
        prefix: ip(prefix), prefixLength: length, interfaceIndex: dev.index, gateway: gateway.map(ip), mtu: mtu,
        metric: metric, kind: kind)
}

private func view(_ routes: [Route], neighbours: [NeighbourEntry] = []) -> NetworkView {
    NetworkView(interfaces: [eth0, eth1], routes: routes, neighbours: neighbours, generation: 7)
}

@Suite struct NetworkViewTests {
    @Test func longestPrefixWinsOverShorterOnes() {
        let v = view([
            route("0.0.0.0", 0, via: "192.0.2.254"),
            route("10.1.0.0", 16, via: "192.0.2.1"),
            route("10.1.2.0", 24, dev: eth1),
            route("10.1.2.128", 25, via: "192.0.2.9"),
            route("10.1.2.200", 32, via: "192.0.2.10"),
        ])
        #expect(v.nextHop(to: ip("10.1.2.3")) == NextHop(interfaceIndex: 3, address: ip("10.1.2.3"), mtu: 9000))
        #expect(v.nextHop(to: ip("10.1.3.3")) == NextHop(interfaceIndex: 2, address: ip("192.0.2.1"), mtu: 1500))
        #expect(v.nextHop(to: ip("10.1.2.129"))?.address == ip("192.0.2.9"))
        #expect(v.nextHop(to: ip("10.1.2.200"))?.address == ip("192.0.2.10"))
        #expect(v.nextHop(to: ip("10.1.2.201"))?.address == ip("192.0.2.9"))
        #expect(v.nextHop(to: ip("8.8.8.8"))?.address == ip("192.0.2.254"))
        #expect(v.generation == 7)
    }

    @Test func withoutDefaultRouteAnUnmatchedDestinationHasNoNextHop() {
        let v = view([route("10.1.0.0", 16, via: "192.0.2.1")])
        #expect(v.nextHop(to: ip("10.2.0.1")) == nil)
        #expect(v.nextHop(to: ip("10.1.255.255")) != nil)
    }

    @Test(arguments: [false, true])
    func lowestMetricWinsAmongEqualPrefixesInAnyOrder(reversed: Bool) {
        var routes = [
            route("10.5.0.0", 16, via: "192.0.2.1", metric: 100),
            route("10.5.0.0", 16, via: "198.51.100.1", dev: eth1, metric: 50),
            route("10.5.0.0", 16, via: "192.0.2.3", metric: 200),
        ]
        if reversed { routes.reverse() }
        let hop = view(routes).nextHop(to: ip("10.5.6.7"))
        #expect(hop == NextHop(interfaceIndex: 3, address: ip("198.51.100.1"), mtu: 9000))
    }

    @Test func aMoreSpecificRouteWinsEvenWithAWorseMetric() {
        let v = view([
            route("10.5.0.0", 16, via: "192.0.2.1", metric: 1),
            route("10.5.6.0", 24, via: "192.0.2.2", metric: 1000),
        ])
        #expect(v.nextHop(to: ip("10.5.6.7"))?.address == ip("192.0.2.2"))
    }

    @Test func familiesDoNotMix() {
        let v4Only = view([route("0.0.0.0", 0, via: "192.0.2.254")])
        #expect(v4Only.nextHop(to: ip("2001:db8::1")) == nil)
        // ::a01:203 has the same low 32 bits as 10.1.2.3.
        let v6Only = view([route("::", 0, via: "fe80::1"), route("::", 96, dev: eth1)])
        #expect(v6Only.nextHop(to: ip("10.1.2.3")) == nil)
        #expect(v6Only.nextHop(to: ip("::a01:203"))?.address == ip("::a01:203"))
    }

    @Test func ipv6LongestPrefixAcrossTheSixtyFourBitBoundary() {
        let v = view([
            route("::", 0, via: "fe80::1"),
            route("2001:db8::", 32, via: "fe80::2"),
            route("2001:db8:0:1::", 64, dev: eth1),
            route("2001:db8:0:1:8000::", 65, via: "fe80::3"),
            route("2001:db8:0:1::4", 127, via: "fe80::4"),
            route("2001:db8:0:1::7", 128, via: "fe80::5"),
        ])
        #expect(v.nextHop(to: ip("2001:db9::1"))?.address == ip("fe80::1"))
        #expect(v.nextHop(to: ip("2001:db8:ffff::1"))?.address == ip("fe80::2"))
        let connected = v.nextHop(to: ip("2001:db8:0:1::99"))
        #expect(connected == NextHop(interfaceIndex: 3, address: ip("2001:db8:0:1::99"), mtu: 9000))
        #expect(v.nextHop(to: ip("2001:db8:0:1:8000::1"))?.address == ip("fe80::3"))
        #expect(v.nextHop(to: ip("2001:db8:0:1::5"))?.address == ip("fe80::4"))
        #expect(v.nextHop(to: ip("2001:db8:0:1::6"))?.address == ip("2001:db8:0:1::6"))
        #expect(v.nextHop(to: ip("2001:db8:0:1::7"))?.address == ip("fe80::5"))
    }

    @Test func hostBitsInAPrefixAreIgnoredAndOversizedLengthsAreSkipped() {
        let v = view([
            route("10.9.9.9", 8, via: "192.0.2.1"),
            route("10.0.0.0", 33, via: "192.0.2.2"),
            route("2001:db8::", 129, via: "fe80::1"),
        ])
        #expect(v.nextHop(to: ip("10.200.0.1"))?.address == ip("192.0.2.1"))
        #expect(v.nextHop(to: ip("2001:db8::1")) == nil)
    }

    @Test func aRejectRouteHidesLessSpecificRoutes() {
        let v = view([
            route("0.0.0.0", 0, via: "192.0.2.254"),
            route("10.9.0.0", 16, kind: .reject),
            route("10.9.1.0", 24, via: "192.0.2.1"),
        ])
        #expect(v.nextHop(to: ip("10.9.2.1")) == nil)
        #expect(v.nextHop(to: ip("10.9.1.1"))?.address == ip("192.0.2.1"))
        #expect(v.nextHop(to: ip("10.10.0.1"))?.address == ip("192.0.2.254"))
    }

    @Test func aRejectRouteWithAWorseMetricLosesToAUnicastOne() {
        let v = view([route("10.9.0.0", 16, metric: 10, kind: .reject), route("10.9.0.0", 16, via: "192.0.2.1")])
        #expect(v.nextHop(to: ip("10.9.2.1"))?.address == ip("192.0.2.1"))
    }

    @Test func aRouteThroughAnUnknownInterfaceYieldsNothing() {
        let ghost = InterfaceInfo(index: 42, mac: .zero, mtu: 1500)
        let v = view([route("0.0.0.0", 0, via: "192.0.2.254"), route("10.0.0.0", 8, via: "192.0.2.1", dev: ghost)])
        #expect(v.nextHop(to: ip("10.1.1.1")) == nil)
    }

    @Test func routeMTUOverridesTheInterfaceMTU() {
        let v = view([route("10.0.0.0", 8, via: "192.0.2.1", mtu: 1400), route("11.0.0.0", 8, via: "192.0.2.1")])
        #expect(v.nextHop(to: ip("10.1.1.1"))?.mtu == 1400)
        #expect(v.nextHop(to: ip("11.1.1.1"))?.mtu == 1500)
    }

    @Test func anIPv4RouteMayHaveAnIPv6Gateway() {
        let v = view([route("0.0.0.0", 0, via: "fe80::1")])
        #expect(v.nextHop(to: ip("203.0.113.5")) == NextHop(interfaceIndex: 2, address: ip("fe80::1"), mtu: 1500))
    }

    @Test(arguments: [
        (NeighbourEntry.State.reachable, true), (NeighbourEntry.State.stale, true),
        (NeighbourEntry.State.delay, true), (NeighbourEntry.State.probe, true),
        (NeighbourEntry.State.permanent, true), (NeighbourEntry.State.noARP, true),
        (NeighbourEntry.State.incomplete, false), (NeighbourEntry.State.failed, false),
        (NeighbourEntry.State.none, false),
    ])
    func neighbourIsReturnedOnlyInUsableStates(state: UInt16, usable: Bool) {
        let entry = NeighbourEntry(interfaceIndex: 2, address: ip("192.0.2.1"), mac: peerMAC, state: state)
        let v = view([], neighbours: [entry])
        #expect(v.neighbour(ip("192.0.2.1"), on: 2) == (usable ? peerMAC : nil))
        #expect(entry.isUsable == usable)
        #expect(v.neighbours == [entry])
    }

    @Test func neighboursAreKeyedByInterfaceAndFamily() {
        let other = MACAddress(0x02_11_22_33_44_55)
        let v = view(
            [],
            neighbours: [
                NeighbourEntry(interfaceIndex: 2, address: ip("10.1.2.3"), mac: peerMAC, state: 0x02),
                NeighbourEntry(interfaceIndex: 3, address: ip("10.1.2.3"), mac: other, state: 0x02),
                NeighbourEntry(interfaceIndex: 2, address: ip("fe80::1"), mac: other, state: 0x04),
            ])
        #expect(v.neighbour(ip("10.1.2.3"), on: 2) == peerMAC)
        #expect(v.neighbour(ip("10.1.2.3"), on: 3) == other)
        #expect(v.neighbour(ip("10.1.2.3"), on: 4) == nil)
        #expect(v.neighbour(ip("::a01:203"), on: 2) == nil)
        #expect(v.neighbour(ip("fe80::1"), on: 2) == other)
        #expect(v.neighbour(ip("fe80::1"), on: 3) == nil)
    }

    @Test func aFailedDuplicateDoesNotHideAUsableEntry() {
        let v = view(
            [],
            neighbours: [
                NeighbourEntry(interfaceIndex: 2, address: ip("10.1.2.3"), mac: peerMAC, state: 0x02),
                NeighbourEntry(interfaceIndex: 2, address: ip("10.1.2.3"), mac: .zero, state: 0x20),
            ])
        #expect(v.neighbour(ip("10.1.2.3"), on: 2) == peerMAC)
    }

    @Test func interfacesAreFoundByIndexAndName() {
        let renumbered = InterfaceInfo(index: 2, mac: MACAddress(0x02_00_00_00_00_09), mtu: 1400)
        let v = NetworkView(
            interfaces: [eth1, eth0, renumbered], routes: [], neighbours: [], generation: 1,
            interfaceNames: [2: "ext0", 3: "int0"])
        #expect(v.interface(2) == renumbered)
        #expect(v.interface(3) == eth1)
        #expect(v.interface(1) == nil)
        #expect(v.interface(4) == nil)
        #expect(v.interfaces.map(\.index) == [2, 3])
        #expect(v.interfaceIndex(named: "int0") == 3)
        #expect(v.interfaceIndex(named: "nope") == nil)
        #expect(v.interfaceName(2) == "ext0")
    }

    @Test func anEmptyViewAnswersNothing() {
        let v = NetworkView()
        #expect(v.generation == 0)
        #expect(v.interface(1) == nil)
        #expect(v.nextHop(to: ip("10.0.0.1")) == nil)
        #expect(v.nextHop(to: ip("::1")) == nil)
        #expect(v.neighbour(ip("10.0.0.1"), on: 1) == nil)
    }

    /// Several hundred random routes (the target scale) and thousands of random destinations: the
    /// per-length hash lookup must agree with a linear scan for the longest, then lowest-metric, match.
    @Test func randomTablesAgreeWithABruteForceScan() {
        var rng = SplitMix(seed: 0x5EED)
        for _ in 0..<3 {
            var routes: [Route] = []
            for _ in 0..<400 {
                let v6 = rng.next() % 3 == 0
                let length = UInt8(rng.next() % (v6 ? 129 : 33))
                // Few distinct high bits so that prefixes nest and collide.
                let prefix =
                    v6
                    ? IPAddress(
                        v6High: 0x2001_0DB8_0000_0000 | (rng.next() & 0xF0F0_00FF),
                        low: rng.next() & 0xFF00_0000_0000_00FF)
                    : IPAddress(v4: 0x0A00_0000 | UInt32(truncatingIfNeeded: rng.next() & 0x00F0_F0FF))
                let gateway = IPAddress(v4: 0xC000_0200 | UInt32(truncatingIfNeeded: rng.next() & 0xFF))
                routes.append(
                    Route(
                        prefix: prefix, prefixLength: length, interfaceIndex: rng.next() % 2 == 0 ? 2 : 3,
                        gateway: rng.next() % 4 == 0 ? nil : gateway, metric: UInt32(rng.next() % 4),
                        kind: rng.next() % 20 == 0 ? .reject : .unicast))
            }
            let v = view(routes)
            for _ in 0..<2000 {
                let destination =
                    rng.next() % 3 == 0
                    ? IPAddress(
                        v6High: 0x2001_0DB8_0000_0000 | (rng.next() & 0xF0F0_00FF),
                        low: rng.next() & 0xFF00_0000_0000_00FF)
                    : IPAddress(v4: 0x0A00_0000 | UInt32(truncatingIfNeeded: rng.next() & 0x00F0_F0FF))
                #expect(v.nextHop(to: destination) == bruteForce(routes, destination))
            }
        }
    }
}

private func contains(_ route: Route, _ address: IPAddress) -> Bool {
    guard route.prefix.isV6 == address.isV6 else { return false }
    let length = Int(route.prefixLength)
    if !address.isV6 {
        let mask: UInt32 = length == 0 ? 0 : ~0 << UInt32(32 - length)
        return route.prefix.v4 & mask == address.v4 & mask
    }
    let highMask: UInt64 = length == 0 ? 0 : length >= 64 ? ~0 : ~0 << UInt64(64 - length)
    let lowMask: UInt64 = length <= 64 ? 0 : ~0 << UInt64(128 - length)
    return route.prefix.high & highMask == address.high & highMask
        && route.prefix.low & lowMask == address.low & lowMask
}

private func bruteForce(_ routes: [Route], _ destination: IPAddress) -> NextHop? {
    var best: Route?
    for route in routes where contains(route, destination) {
        guard let current = best else {
            best = route
            continue
        }
        if route.prefixLength > current.prefixLength
            || (route.prefixLength == current.prefixLength && route.metric < current.metric)
        {
            best = route
        }
    }
    guard let route = best, route.kind == .unicast else { return nil }
    let mtu = route.interfaceIndex == 2 ? 1500 : 9000
    return NextHop(interfaceIndex: route.interfaceIndex, address: route.gateway ?? destination, mtu: mtu)
}

/// A deterministic generator (splitmix64) so that a failure reproduces.
private struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15  // wraps by design
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
