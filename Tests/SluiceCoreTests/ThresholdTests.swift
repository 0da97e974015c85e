// Connection thresholds (keepalived's `uthreshold`/`lthreshold`, IPVS's u_threshold/l_threshold): a
// server at its upper threshold is overloaded and every scheduler skips it; it takes connections again
// below the lower threshold, or below three quarters of the upper one when no lower one is set; each
// worker applies its share of a threshold; the file's keys are read and checked.

import SluiceCore
import SluicePacket
import SluiceTestKit
import Testing

@Suite struct ThresholdTests {
    @Test(arguments: SchedulerKind.allCases)
    func everySchedulerSkipsAnOverloadedServer(kind: SchedulerKind) {
        var s = Scheduler(kind: kind, weights: [1, 1, 1])
        // Find a client whose pick is server 0 (the hashing schedulers always answer it the same).
        var client = IPAddress(v4: 0x0A00_0001)
        for i in UInt32(1)..<500 {
            var probe = s
            client = IPAddress(v4: 0x0A00_0000 | i)
            if probe.pick(client: client, clientPort: 1, vip: client) == 0 { break }
        }
        s.setThresholds(upper: [2, 0, 0], lower: [0, 0, 0])
        s.connectionOpened(0)
        #expect(!s.isOverloaded(0))
        s.connectionOpened(0, active: false)
        #expect(s.isOverloaded(0))
        for port in UInt16(1)..<50 {
            let picked = s.pick(client: client, clientPort: port, vip: client)
            #expect(picked != 0, "\(kind) picked the overloaded server")
        }
        // 1 connection left: 1 × 4 < 2 × 3, no longer overloaded.
        s.connectionClosed(0, wasActive: true)
        #expect(!s.isOverloaded(0))
    }

    @Test func theLowerThresholdDecidesWhenItClears() {
        var s = Scheduler(kind: .rr, weights: [1, 1])
        s.setThresholds(upper: [4, 0], lower: [2, 0])
        for _ in 0..<4 { s.connectionOpened(0) }
        #expect(s.isOverloaded(0))
        s.connectionClosed(0, wasActive: true)
        s.connectionClosed(0, wasActive: true)
        #expect(s.isOverloaded(0), "2 is not below lthreshold 2")
        s.connectionClosed(0, wasActive: true)
        #expect(!s.isOverloaded(0))
        // Without thresholds nothing is ever overloaded.
        s.setThresholds(upper: [0, 0], lower: [0, 0])
        for _ in 0..<100 { s.connectionOpened(0) }
        #expect(!s.isOverloaded(0))
    }

    @Test func eachWorkerTakesItsShareOfTheThreshold() {
        var c = Topology.configuration(weights: [1, 1], scheduler: .rr)
        c.services[0].realServers[0].upperThreshold = 3
        // Two workers: ceil(3 / 2) = 2 connections each.
        var dp = Topology.dataplane(c, worker: 0, workers: 2)
        var seen: [IPAddress] = []
        for port in UInt16(1000)..<1008 {
            let syn = PacketBuilder().ethernet(src: Topology.clientMAC, dst: Topology.extMAC)
                .ipv4(src: Topology.client, dst: Topology.vip).tcp(sport: port, dport: 80, seq: 1, flags: TCPFlag.syn)
                .build()
            // Handed over: this worker takes the SYN whichever worker owns the flow.
            let out = dp.run(syn, from: .external, now: 1_000, network: Topology.network(), handedOff: true)
            seen.append(out.info.destination)
        }
        #expect(seen.filter { $0 == Topology.rs1 }.count == 2)
        #expect(seen.filter { $0 == Topology.rs2 }.count == 6)
    }
}
