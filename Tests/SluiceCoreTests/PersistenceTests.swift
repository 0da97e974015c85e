// Persistence templates: the table on its own (masking, expiry, replacement, extension, a full probe
// window, two threads racing for one client) and in the data plane (one client's SYNs all reach one
// server, a second client is scheduled; two workers sharing the table agree; a down server releases
// its templates, a quiescent one only under expire_quiescent_template; a template outlives its last
// connection by the timeout, and `explain` names the rule).

import SluiceCore
import SluicePacket
import SluiceTestKit
import Testing

@Suite struct PersistenceTemplatesTests {
    let key: (UInt64, UInt64) = (11, 22)

    @Test func clientNetworks() {
        let v4 = IPAddress("198.51.100.77")!
        #expect(PersistenceTemplates.network(of: v4, prefix: 24) == IPAddress("198.51.100.0")!)
        #expect(PersistenceTemplates.network(of: v4, prefix: 32) == v4)
        #expect(PersistenceTemplates.network(of: v4, prefix: 0) == IPAddress("0.0.0.0")!)
        let v6 = IPAddress("2001:db8:1:2:3:4:5:6")!
        #expect(PersistenceTemplates.network(of: v6, prefix: 64) == IPAddress("2001:db8:1:2::")!)
        #expect(PersistenceTemplates.network(of: v6, prefix: 48) == IPAddress("2001:db8:1::")!)
        #expect(PersistenceTemplates.network(of: v6, prefix: 96) == IPAddress("2001:db8:1:2:3:4::")!)
        #expect(PersistenceTemplates.network(of: v6, prefix: 128) == v6)
    }

    @Test func storeLookupExpireReplaceExtend() {
        let t = PersistenceTemplates(hashKey: key)
        let k = t.key(vip: Topology.vip, port: 80, transport: 6, clientNetwork: Topology.client)
        #expect(t.lookup(k, now: 100) == nil)
        #expect(t.store(k, tag: 7, expiry: 130, now: 100) == 7)
        #expect(t.lookup(k, now: 129)?.tag == 7)
        // Another server while the template lives: the template holds.
        #expect(t.store(k, tag: 8, expiry: 140, now: 110) == 7)
        // Unless the caller replaces it (its server went down).
        #expect(t.store(k, tag: 8, expiry: 140, now: 110, replacing: 7) == 8)
        t.extend(k, tag: 8, expiry: 200)
        t.extend(k, tag: 9, expiry: 300)  // another server's: ignored
        #expect(t.lookup(k, now: 199)?.tag == 8 && t.lookup(k, now: 200) == nil)
        // Expired: anyone may take it.
        #expect(t.store(k, tag: 9, expiry: 260, now: 230) == 9)
        #expect(t.liveCount(now: 230) == 1 && t.liveCount(now: 260) == 0)
    }

    @Test func aFullProbeWindowRefusesAndExpiredSlotsAreReused() {
        let t = PersistenceTemplates(hashKey: key)
        // Keys with one home slot fill its window.
        let home = 5
        let keys = (UInt64(1)...UInt64(9)).map { UInt64(home) | $0 << 20 }
        for k in keys.prefix(8) { #expect(t.store(k, tag: 1, expiry: 50, now: 10) == 1) }
        #expect(t.store(keys[8], tag: 1, expiry: 50, now: 10) == nil)
        #expect(t.store(keys[8], tag: 1, expiry: 90, now: 60) == 1)
        #expect(t.lookup(keys[8], now: 61)?.tag == 1 && t.lookup(keys[0], now: 61) == nil)
    }

    @Test func racingWorkersAgreeOnOneServer() async {
        let t = PersistenceTemplates(hashKey: key)
        let clients = 20_000
        let vip = Topology.vip
        var r = [[UInt32?]](repeating: [], count: 2)
        await withTaskGroup(of: (Int, [UInt32?]).self) { group in
            for worker in 0..<2 {
                group.addTask {
                    var mine: [UInt32?] = []
                    for c in 0..<clients {
                        let k = t.key(vip: vip, port: 80, transport: 6, clientNetwork: IPAddress(v4: UInt32(c)))
                        mine.append(t.store(k, tag: UInt32(100 + worker), expiry: 1000, now: 1))
                    }
                    return (worker, mine)
                }
            }
            for await (worker, mine) in group { r[worker] = mine }
        }
        let agreed = (0..<clients).filter { r[0][$0] != nil && r[0][$0] == r[1][$0] }.count
        // A worker that finds the slot being filled gets nil (schedules alone); never two answers.
        let disagreed = (0..<clients).filter { r[0][$0] != nil && r[1][$0] != nil && r[0][$0] != r[1][$0] }.count
        #expect(disagreed == 0)
        #expect(agreed > clients * 9 / 10)
    }
}

@Suite struct DataplanePersistenceTests {
    let network = Topology.network()
    static let client2 = IPAddress("198.51.100.3")!

    func syn(_ port: UInt16, client: IPAddress = Topology.client) -> [UInt8] {
        PacketBuilder().ethernet(src: Topology.clientMAC, dst: Topology.extMAC)
            .ipv4(src: client, dst: Topology.vip).tcp(sport: port, dport: 80, seq: 1, flags: TCPFlag.syn).build()
    }

    func configuration(timeout: UInt32 = 30, netmask: UInt8? = nil, expireQuiescent: Bool = false)
        -> DataplaneConfiguration
    {
        var c = Topology.configuration(weights: [1, 1, 1], scheduler: .rr)
        c.services[0].persistenceTimeout = timeout
        if let netmask { c.services[0].persistenceNetmask = netmask }
        c.services[0].expireQuiescentTemplate = expireQuiescent
        return c
    }

    /// `handedOff` makes a data plane of several workers take the SYN whichever worker owns the flow.
    func server(
        _ dp: inout Dataplane, port: UInt16, client: IPAddress = Topology.client, now: UInt64, handedOff: Bool = false
    ) -> IPAddress {
        let out = dp.run(syn(port, client: client), from: .external, now: now, network: network, handedOff: handedOff)
        #expect(out.verdict == .transmit(.internal))
        return out.info.destination
    }

    @Test func oneClientOneServerAndASecondClientIsScheduled() {
        var dp = Topology.dataplane(configuration())
        let first = (1000..<1050).map { server(&dp, port: $0, now: 1_000) }
        #expect(Set(first).count == 1)
        #expect(dp.counters[.persistenceTemplateFollowed] == 49 && dp.counters[.persistenceTemplateCreated] == 1)
        // rr moves on for a new client.
        #expect(server(&dp, port: 1000, client: Self.client2, now: 1_000) != first[0])
        // Without persistence rr spreads one client's connections.
        var plain = Topology.dataplane(configuration(timeout: 0))
        #expect(Set((1000..<1006).map { server(&plain, port: $0, now: 1_000) }).count == 3)
    }

    @Test func aClientNetworkSharesOneTemplate() {
        var dp = Topology.dataplane(configuration(netmask: 24))
        let a = server(&dp, port: 1000, now: 1_000)
        #expect(server(&dp, port: 1000, client: Self.client2, now: 1_000) == a)
    }

    @Test func workersSharingTheTableAgree() {
        let templates = PersistenceTemplates(hashKey: (5, 6))
        func worker(_ i: Int) -> Dataplane {
            Dataplane(
                configuration: configuration(), worker: i, workerCount: 2, externalInterface: 1, internalInterface: 2,
                secret: (0x0123_4567_89AB_CDEF, 0xFEDC_BA98_7654_3210), templates: templates)
        }
        var w0 = worker(0)
        var w1 = worker(1)
        // Each SYN is processed by the worker it is given (as if handed there), whoever owns it.
        _ = server(&w1, port: 999, client: Self.client2, now: 1_000, handedOff: true)  // w1's rr is one step ahead
        let a = server(&w0, port: 1000, now: 1_000, handedOff: true)
        for port in UInt16(1001)..<1010 { #expect(server(&w1, port: port, now: 1_000, handedOff: true) == a) }
    }

    @Test func aDownServerReleasesItsTemplatesAQuiescentOneOnlyWhenAsked() {
        for expire in [false, true] {
            var c = configuration(expireQuiescent: expire)
            var dp = Topology.dataplane(c)
            let a = server(&dp, port: 1000, now: 1_000)
            let index = c.services[0].realServers.firstIndex { $0.address == a }!
            c.services[0].realServers[index].weight = 0
            dp.apply(configuration: c)
            let quiescent = server(&dp, port: 1001, now: 1_000)
            #expect((quiescent == a) == !expire, "weight 0, expire_quiescent_template \(expire)")
            c.services[0].realServers[index].weight = 1
            c.services[0].realServers[index].isUp = false
            dp.apply(configuration: c)
            let b = server(&dp, port: 1002, now: 1_000)
            #expect(b != a)
            // The replacement template holds even once the first server is back.
            c.services[0].realServers[index].isUp = true
            dp.apply(configuration: c)
            #expect(server(&dp, port: 1003, now: 1_000) == b)
        }
    }

    @Test func aReloadKeepsTemplatesOfServersThatStay() {
        var c = configuration()
        var dp = Topology.dataplane(c)
        let a = server(&dp, port: 1000, now: 1_000)
        // The servers reordered and one added: the template follows its server's address and port.
        c.services[0].realServers.reverse()
        c.services[0].realServers.append(
            RealServerConfiguration(address: IPAddress("10.30.0.14")!, port: 8080, weight: 1))
        dp.apply(configuration: c)
        for port in UInt16(1001)..<1005 { #expect(server(&dp, port: port, now: 2_000) == a) }
    }

    @Test func theTemplateOutlivesItsLastConnectionByTheTimeout() {
        var dp = Topology.dataplane(configuration(timeout: 30))
        let a = server(&dp, port: 1000, now: 1_000)
        // The SYN_RECV entry (30 s) expires at 31 s; the template lives 30 s past that deadline.
        dp.advance(now: 40_000)
        #expect(dp.connectionCount == 0)
        #expect(server(&dp, port: 1001, now: 55_000) == a)
        // That connection ends at 85 s (SYN_RECV): the template lasts until 115 s.
        dp.advance(now: 100_000)
        #expect(dp.connectionCount == 0)
        #expect(server(&dp, port: 1002, now: 110_000) == a)
        dp.advance(now: 300_000)
        // Long after: the template expired, rr picks the next server.
        #expect(server(&dp, port: 1003, now: 300_000) != a)
    }

    @Test func explainNamesTheRule() {
        var dp = Topology.dataplane(configuration())
        let before = dp.explain(
            transport: .tcp, client: Topology.client, clientPort: 5, vip: Topology.vip, vport: 80, now: 1_000)
        #expect(before.rule == "scheduler rr (a new persistence template for 30 s)")
        let a = server(&dp, port: 1000, now: 1_000)
        let after = dp.explain(
            transport: .tcp, client: Topology.client, clientPort: 5, vip: Topology.vip, vport: 80, now: 2_000)
        #expect(after.server?.address == a)
        #expect(after.rule?.hasPrefix("persistence template (expires in ") == true)
    }
}
