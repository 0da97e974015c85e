// Ownership among workers (FlowOwnership.swift, Dataplane+Ownership.swift): of two data planes of one
// runtime, exactly one takes each client flow, its connection's local port is in that worker's slice,
// and every other frame of the connection (replies, ICMP errors about it) names the same worker; a NIC's
// own RSS table makes the receiving worker the owner, and with it known the local port is chosen so
// that the NIC delivers the reply to the owner's queue.

import SluiceCore
import SluicePacket
import SluiceTestKit
import Testing

@Suite struct OwnershipTests {
    let network = Topology.network()

    func syn(port: UInt16) -> [UInt8] {
        PacketBuilder().ethernet(src: Topology.clientMAC, dst: Topology.extMAC)
            .ipv4(src: Topology.client, dst: Topology.vip, ttl: 64)
            .tcp(sport: port, dport: 80, seq: 1000, flags: TCPFlag.syn, options: [.mss(1460)]).build()
    }

    func synAck(to opened: Processed) -> [UInt8] {
        PacketBuilder().ethernet(src: Topology.routerMAC, dst: Topology.intMAC)
            .ipv4(src: opened.info.destination, dst: opened.info.source)
            .tcp(
                sport: opened.info.destinationPort, dport: opened.info.sourcePort, seq: 5000,
                ack: opened.frame.u32(opened.info.l4Offset + 4) &+ 1, flags: TCPFlag.syn | TCPFlag.ack,
                options: [.mss(1460)]
            ).build()
    }

    @Test func eachClientFlowHasOneOwnerAndItsRepliesFollow() {
        var worker0 = Topology.dataplane(worker: 0, workers: 2)
        var worker1 = Topology.dataplane(worker: 1, workers: 2)
        let network = self.network
        func run(_ worker: Int, _ frame: [UInt8], from side: Side) -> Processed {
            worker == 0
                ? worker0.run(frame, from: side, now: 1, network: network)
                : worker1.run(frame, from: side, now: 1, network: network)
        }
        var owned = [0, 0]
        for port in UInt16(30_000)..<30_200 {
            let first = run(0, syn(port: port), from: .external)
            let second = run(1, syn(port: port), from: .external)
            let opened: Processed
            let owner: Int
            switch (first.verdict, second.verdict) {
            case (.transmit(.internal), .handOff(0)):
                (opened, owner) = (first, 0)
            case (.handOff(1), .transmit(.internal)):
                (opened, owner) = (second, 1)
            default:
                Issue.record("port \(port): \(first.verdict) and \(second.verdict)")
                continue
            }
            owned[owner] += 1
            #expect(PortPool.owner(ofPort: opened.info.sourcePort, workerCount: 2) == owner)
            let reply = synAck(to: opened)
            #expect(run(1 - owner, reply, from: .internal).verdict == .handOff(owner))
            let back = run(owner, reply, from: .internal)
            #expect(back.verdict == .transmit(.external))
            #expect(back.info.destinationPort == port)
        }
        // Microsoft's key spreads 200 clients' ports over both workers.
        #expect(owned[0] > 60 && owned[1] > 60)
        #expect(worker0.connectionCount == owned[0] && worker1.connectionCount == owned[1])
        #expect(worker0.counters[.wrongWorker] == 0 && worker1.counters[.wrongWorker] == 0)
    }

    @Test func anICMPErrorGoesToTheConnectionsOwner() {
        var owning = Topology.dataplane(worker: 0, workers: 2)
        var other = Topology.dataplane(worker: 1, workers: 2)
        // A client port worker 0 owns.
        let port = (UInt16(40_000)..<40_100).first { port in
            owning.ownership!.owner(
                ofClientFlow: FlowKey(
                    source: Topology.client, destination: Topology.vip, sourcePort: port, destinationPort: 80,
                    transport: 6)) == 0
        }!
        let opened = owning.run(syn(port: port), from: .external, now: 1, network: network)
        #expect(opened.verdict == .transmit(.internal))
        // A router on the real server's side cannot deliver the forwarded SYN: it quotes LIP:lport → RIP.
        let quoted = Array(opened.frame[14..<(14 + 28)])
        let error = PacketBuilder().ethernet(src: Topology.routerMAC, dst: Topology.intMAC)
            .ipv4(src: Topology.router, dst: opened.info.source)
            .icmp(type: 3, code: 1, payload: quoted).build()
        #expect(other.run(error, from: .internal, now: 2, network: network).verdict == .handOff(0))
        #expect(owning.run(error, from: .internal, now: 2, network: network).verdict == .transmit(.external))
    }

    @Test func aNICTableMakesTheReceivingQueuesWorkerTheOwner() {
        // A NIC whose indirection table sends everything to queue 1: worker 1 owns every client flow.
        let ownership = FlowOwnership(workerCount: 2, indirection: RSSIndirection(entries: [1, 1, 1, 1])!)
        for port in UInt16(1000)..<1100 {
            let key = FlowKey(
                source: Topology.client, destination: Topology.vip, sourcePort: port, destinationPort: 80, transport: 6)
            #expect(ownership.owner(ofClientFlow: key) == 1)
        }
        #expect(ownership.owner(ofLocalPort: 2001) == 1 && ownership.owner(ofLocalPort: 2002) == 0)
    }

    @Test func oneWorkerNeverHandsOff() {
        var dp = Topology.dataplane()
        #expect(dp.ownership == nil)
        for port in UInt16(30_000)..<30_050 {
            #expect(dp.run(syn(port: port), from: .external, now: 1, network: network).verdict == .transmit(.internal))
        }
    }

    func worker(_ index: Int, ownership: FlowOwnership) -> Dataplane {
        Dataplane(
            configuration: Topology.configuration(), worker: index, workerCount: 2, externalInterface: 1,
            internalInterface: 2, secret: (0x0123_4567_89AB_CDEF, 0xFEDC_BA98_7654_3210), ownership: ownership)
    }

    @Test func withTheNICsRSSKnownRepliesArePredictedToReachTheOwner() {
        // A NIC with Microsoft's key and an even two-queue table, as the driver would report them.
        let nic = FlowOwnership(
            workerCount: 2, key: ToeplitzHash.microsoftDefaultKey, indirection: RSSIndirection.roundRobin(queues: 2))
        #expect(nic.knowsNICQueues)
        var worker0 = worker(0, ownership: nic)
        var worker1 = worker(1, ownership: nic)
        for port in UInt16(30_000)..<30_200 {
            let key = FlowKey(
                source: Topology.client, destination: Topology.vip, sourcePort: port, destinationPort: 80, transport: 6)
            let owner = nic.owner(ofClientFlow: key)
            let opened =
                owner == 0
                ? worker0.run(syn(port: port), from: .external, now: 1, network: network)
                : worker1.run(syn(port: port), from: .external, now: 1, network: network)
            #expect(opened.verdict == .transmit(.internal))
            // The NIC would put the reply on the owner's queue, and the port is in the owner's slice.
            let reply = FlowKey(
                source: opened.info.destination, destination: opened.info.source,
                sourcePort: opened.info.destinationPort, destinationPort: opened.info.sourcePort, transport: 6)
            #expect(nic.predictedWorker(of: reply) == owner)
            #expect(nic.owner(ofLocalPort: opened.info.sourcePort) == owner)
        }
        #expect(worker0.counters[.localPortsSteered] + worker1.counters[.localPortsSteered] == 200)
        #expect(worker0.counters[.localPortsUnsteered] + worker1.counters[.localPortsUnsteered] == 0)
    }

    @Test func aPredictionThatCannotHoldFallsBackToTheSliceAndTheHandOff() {
        // Every bucket on queue 1: no port of worker 0's slice can have its reply delivered to queue 0.
        let skewed = FlowOwnership(
            workerCount: 2, key: ToeplitzHash.microsoftDefaultKey, indirection: RSSIndirection(entries: [1, 1])!)
        var owning = worker(0, ownership: skewed)
        var other = worker(1, ownership: skewed)
        // Worker 0 owns no client flow under this table; a frame handed to it is taken all the same.
        let opened = owning.run(syn(port: 40_000), from: .external, now: 1, network: network, handedOff: true)
        #expect(opened.verdict == .transmit(.internal))
        #expect(owning.counters[.localPortsUnsteered] == 1)
        // Its reply arrives at worker 1 (the NIC's choice) and is handed back to the port's owner.
        let reply = synAck(to: opened)
        #expect(other.run(reply, from: .internal, now: 2, network: network).verdict == .handOff(0))
        #expect(other.counters[.repliesHandedOff] == 1)
        #expect(owning.run(reply, from: .internal, now: 2, network: network).verdict == .transmit(.external))
    }
    @Test func withRepliesSteeredByNICRulesAnyPortOfTheSliceIsSteered() {
        // The same skewed table, but NIC rules send each reply to its local port's owner: no RSS
        // preference applies, and every port taken is counted as steered.
        let ruled = FlowOwnership(
            workerCount: 2, key: ToeplitzHash.microsoftDefaultKey, indirection: RSSIndirection(entries: [1, 1])!,
            repliesSteeredByRules: true)
        var owning = worker(0, ownership: ruled)
        for port in UInt16(40_000)..<40_020 {
            let opened = owning.run(syn(port: port), from: .external, now: 1, network: network, handedOff: true)
            #expect(opened.verdict == .transmit(.internal))
            #expect(ruled.owner(ofLocalPort: opened.info.sourcePort) == 0)
        }
        #expect(owning.counters[.localPortsSteered] == 20)
        #expect(owning.counters[.localPortsUnsteered] == 0)
    }
}
