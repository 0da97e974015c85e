// Fragments through the data plane and the fragment table every worker shares (docs/protocol.md §3
// "Fragments"): in order, out of order (held, then released), duplicate first fragments, the hold
// and entry timeouts, a full table and a full hold, and two data planes sharing one table, the first
// fragment translated by one and the later ones by the other. Every translated datagram is put back
// together (SluiceTestKit's Fragmenter) and its transport checksum verified over the whole datagram.

import Foundation
import SluiceCore
import SluicePacket
import SluiceTestKit
import Testing

/// Fragmented datagrams and the helpers that drive them through data planes.
enum Fragments {
    static let payload = (0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 5) }
    static let network = Topology.network()

    /// The topology's services plus UDP 53 on the IPv6 VIP.
    static func configuration() -> DataplaneConfiguration {
        var c = Topology.configuration()
        c.services.append(
            VirtualServiceConfiguration(
                name: "dns6", vip: Topology.vip6, port: 53, transport: .udp, scheduler: .rr,
                localAddresses: [Topology.lip6],
                realServers: [RealServerConfiguration(address: Topology.rs6, port: 5353, weight: 1)]))
        return c
    }

    static func dataplane(worker: Int = 0, workers: Int = 1, table: FragmentTable? = nil) -> Dataplane {
        Dataplane(
            configuration: configuration(), worker: worker, workerCount: workers, externalInterface: 1,
            internalInterface: 2, secret: (0x0123_4567_89AB_CDEF, 0xFEDC_BA98_7654_3210), fragments: table)
    }

    /// A client's 3000-byte UDP query to the VIP, whole.
    static func query(v6: Bool = false, sourcePort: UInt16 = 5555, ttl: UInt8 = 64) -> [UInt8] {
        let b = PacketBuilder().ethernet(src: Topology.clientMAC, dst: Topology.extMAC)
        let ip =
            v6
            ? b.ipv6(src: Topology.client6, dst: Topology.vip6, hopLimit: ttl)
            : b.ipv4(src: Topology.client, dst: Topology.vip, ttl: ttl, df: false)
        return ip.udp(sport: sourcePort, dport: 53, payload: payload).build()
    }

    /// The query's fragments: three of 1480 (IPv4) or 1448 (IPv6) bytes of payload at most.
    static func fragments(v6: Bool = false, identification: UInt32 = 0x1234, sourcePort: UInt16 = 5555, ttl: UInt8 = 64)
        -> [[UInt8]]
    {
        Fragmenter.fragments(
            of: query(v6: v6, sourcePort: sourcePort, ttl: ttl), chunk: v6 ? 1448 : 1480,
            identification: identification)
    }

    /// A frame's IP addresses and identification, read independently of the parser.
    static func header(_ frame: [UInt8]) -> (source: IPAddress, destination: IPAddress, identification: UInt32) {
        if frame[12] == 0x86 {
            let source = IPAddress(v6High: be64(frame, 22), low: be64(frame, 30))
            let destination = IPAddress(v6High: be64(frame, 38), low: be64(frame, 46))
            return (source, destination, frame[20] == 44 ? frame.u32(58) : 0)
        }
        return (IPAddress(v4: frame.u32(26)), IPAddress(v4: frame.u32(30)), UInt32(frame.u16(18)))
    }

    static func be64(_ f: [UInt8], _ o: Int) -> UInt64 { UInt64(f.u32(o)) << 32 | UInt64(f.u32(o + 4)) }

    /// The UDP header and payload of a whole (reassembled) frame.
    static func udp(_ frame: [UInt8]) -> (sourcePort: UInt16, destinationPort: UInt16, payload: [UInt8]) {
        let l4 = frame[12] == 0x86 ? 54 : 14 + Int(frame[14] & 0x0F) * 4
        return (frame.u16(l4), frame.u16(l4 + 2), Array(frame[(l4 + 8)...]))
    }
}

extension Dataplane {
    /// The frames waiting in the output queue (released fragments), then the queue emptied.
    mutating func takeOutput() -> [(frame: [UInt8], side: Side)] {
        var out: [(frame: [UInt8], side: Side)] = []
        for index in 0..<pendingOutputCount {
            out.append(withPendingOutput(index) { span, side in ((0..<span.count).map { span[$0] }, side) })
        }
        clearPendingOutput()
        return out
    }
}

@Suite struct FragmentTableTests {
    let network = Fragments.network

    /// Checks a translated datagram: every fragment's IPv4 header checksum, one identification, and the
    /// whole datagram's addresses, ports, payload and UDP checksum once reassembled.
    func expectDatagram(
        _ frames: [[UInt8]], source: IPAddress, destination: IPAddress, destinationPort: UInt16,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        for frame in frames {
            #expect(FrameChecker.problem(frame) == nil, sourceLocation: sourceLocation)
            #expect(Fragments.header(frame).source == source, sourceLocation: sourceLocation)
            #expect(Fragments.header(frame).destination == destination, sourceLocation: sourceLocation)
        }
        #expect(Set(frames.map { Fragments.header($0).identification }).count == 1, sourceLocation: sourceLocation)
        guard let whole = Fragmenter.reassemble(frames) else {
            Issue.record("the fragments do not reassemble", sourceLocation: sourceLocation)
            return
        }
        #expect(FrameChecker.problem(whole) == nil, sourceLocation: sourceLocation)
        let udp = Fragments.udp(whole)
        #expect(udp.destinationPort == destinationPort, sourceLocation: sourceLocation)
        #expect(udp.payload == Fragments.payload, sourceLocation: sourceLocation)
    }

    // MARK: - The table alone

    @Test func recordsLooksUpAndExpires() {
        let table = FragmentTable(hashKey: (1, 2))
        let key = FragmentKey(source: Topology.client, destination: Topology.vip, identification: 7, transport: 17)
        let rewrite = FragmentRewrite(
            source: Topology.lips[0], destination: Topology.rs1, identification: 99, direction: .inbound, service: 1,
            server: 2)
        #expect(table.lookup(key, now: 10) == nil)
        #expect(table.record(key, rewrite, now: 10))
        #expect(table.lookup(key, now: 10) == rewrite)
        #expect(table.lookup(key, now: 10 + FragmentTable.entryLifetime - 1) == rewrite)
        #expect(table.lookup(key, now: 10 + FragmentTable.entryLifetime) == nil)
        // Another identification, protocol or family is another datagram.
        var other = key
        other.identification = 8
        #expect(table.lookup(other, now: 10) == nil)
        other = key
        other.transport = 6
        #expect(table.lookup(other, now: 10) == nil)
        let v6 = FragmentKey(
            source: IPAddress(v6High: 0, low: Topology.client.low),
            destination: IPAddress(v6High: 0, low: Topology.vip.low),
            identification: 7, transport: 17)
        #expect(table.lookup(v6, now: 10) == nil)
        // Recorded again, the entry is replaced in its slot.
        var outbound = rewrite
        outbound.direction = .outbound
        #expect(table.record(key, outbound, now: 20))
        #expect(table.lookup(key, now: 20) == outbound)
        #expect(table.liveCount(now: 20) == 1)
    }

    /// `count` keys of `key`'s source, destination and protocol whose probe window starts where `key`'s does.
    static func keys(sharingTheWindowOf key: FragmentKey, in table: FragmentTable, count: Int) -> [FragmentKey] {
        var out: [FragmentKey] = []
        var candidate = key
        while out.count < count {
            candidate.identification &+= 1
            if table.homeSlot(of: candidate) == table.homeSlot(of: key) { out.append(candidate) }
        }
        return out
    }

    @Test func aFullProbeWindowRefusesUntilAnEntryExpires() {
        let table = FragmentTable(hashKey: (3, 4))
        let key = FragmentKey(source: Topology.client, destination: Topology.vip, identification: 1, transport: 17)
        let rewrite = FragmentRewrite(
            source: Topology.lips[0], destination: Topology.rs1, identification: 5, direction: .inbound)
        for other in Self.keys(sharingTheWindowOf: key, in: table, count: FragmentTable.probeLength) {
            #expect(table.record(other, rewrite, now: 100))
        }
        #expect(!table.record(key, rewrite, now: 100))
        #expect(table.record(key, rewrite, now: 100 + FragmentTable.entryLifetime))
        #expect(table.lookup(key, now: 100 + FragmentTable.entryLifetime) == rewrite)
    }

    @Test func readersNeverPairOneDatagramsKeyWithAnothersRewrite() async {
        // Writers keep rewriting the entries of a few keys that share one probe window; each rewrite is a
        // function of its key, so a reader that mixed two writes would see a rewrite not of its key.
        let table = FragmentTable(hashKey: (5, 6))
        let first = FragmentKey(source: Topology.client, destination: Topology.vip, identification: 0, transport: 17)
        let keys = [first] + Self.keys(sharingTheWindowOf: first, in: table, count: 3)
        let mismatches = await withTaskGroup(of: Int.self) { group in
            for writer in 0..<2 {
                group.addTask {
                    for round in 0..<20_000 {
                        let key = keys[(round + writer) % keys.count]
                        _ = table.record(key, Self.rewrite(of: key, round: UInt32(round)), now: 1)
                    }
                    return 0
                }
            }
            for reader in 0..<2 {
                group.addTask {
                    var bad = 0
                    for round in 0..<40_000 {
                        let key = keys[(round + reader) % keys.count]
                        guard let found = table.lookup(key, now: 1) else { continue }
                        if found.source != IPAddress(v4: key.identification)
                            || found.destination != IPAddress(v4: ~key.identification) || found.service != found.server
                        {
                            bad += 1
                        }
                    }
                    return bad
                }
            }
            return await group.reduce(0, +)
        }
        #expect(mismatches == 0)
        for key in keys { #expect(table.lookup(key, now: 1)?.identification == key.identification) }
    }

    /// A rewrite that is a function of its key, and of a round in two fields that must agree.
    static func rewrite(of key: FragmentKey, round: UInt32) -> FragmentRewrite {
        FragmentRewrite(
            source: IPAddress(v4: key.identification), destination: IPAddress(v4: ~key.identification),
            identification: key.identification, direction: .inbound, service: UInt16(truncatingIfNeeded: round),
            server: UInt16(truncatingIfNeeded: round))
    }

    // MARK: - Through the data plane

    @Test(arguments: [false, true]) func inOrderBothWays(v6: Bool) throws {
        var dp = Fragments.dataplane()
        var out: [[UInt8]] = []
        for (index, fragment) in Fragments.fragments(v6: v6).enumerated() {
            let result = dp.run(fragment, from: .external, now: 10 + UInt64(index), network: network)
            #expect(result.verdict == .transmit(.internal))
            out.append(result.frame)
        }
        let lip = v6 ? Topology.lip6 : Topology.lips[0]
        let rs = v6 ? Topology.rs6 : Topology.rs1
        expectDatagram(out, source: lip, destination: rs, destinationPort: 5353)
        // The datagram gets an identification of Sluice's, not the client's.
        #expect(Fragments.header(out[0]).identification != 0x1234)
        #expect(dp.counters[.firstFragmentsForwarded] == 1 && dp.counters[.laterFragmentsForwarded] == 2)
        #expect(dp.counters[.forwardedInbound] == 3)
        // The TTL / hop limit went down by one on every fragment.
        for frame in out { #expect(frame[v6 ? 21 : 22] == 63) }

        // The server's 3000-byte answer comes back to the client from the VIP, fragmented by the server.
        let lport = try #require(Fragmenter.reassemble(out).map { Fragments.udp($0).sourcePort })
        let b = PacketBuilder().ethernet(src: Topology.routerMAC, dst: Topology.intMAC)
        let reply = (v6 ? b.ipv6(src: rs, dst: lip) : b.ipv4(src: rs, dst: lip, df: false))
            .udp(sport: 5353, dport: lport, payload: Fragments.payload).build()
        var back: [[UInt8]] = []
        for fragment in Fragmenter.fragments(of: reply, chunk: v6 ? 1448 : 1480, identification: 77) {
            let result = dp.run(fragment, from: .internal, now: 20, network: network)
            #expect(result.verdict == .transmit(.external))
            back.append(result.frame)
        }
        expectDatagram(
            back, source: v6 ? Topology.vip6 : Topology.vip, destination: v6 ? Topology.client6 : Topology.client,
            destinationPort: 5555)
        #expect(dp.counters[.forwardedOutbound] == 3)
    }

    @Test(arguments: [false, true]) func outOfOrderFragmentsAreHeldThenReleased(v6: Bool) {
        var dp = Fragments.dataplane()
        let pieces = Fragments.fragments(v6: v6)
        // The last fragment, then the middle one, arrive before the first.
        #expect(dp.run(pieces[2], from: .external, now: 10, network: network).verdict == .drop(.fragmentHeld))
        #expect(dp.run(pieces[1], from: .external, now: 11, network: network).verdict == .drop(.fragmentHeld))
        #expect(dp.counters[.fragmentHeld] == 2 && dp.pendingOutputCount == 0)
        let first = dp.run(pieces[0], from: .external, now: 12, network: network)
        #expect(first.verdict == .transmit(.internal))
        let released = dp.takeOutput()
        #expect(released.count == 2 && released.allSatisfy { $0.side == .internal })
        #expect(dp.counters[.fragmentsReleased] == 2 && dp.counters[.laterFragmentsForwarded] == 2)
        expectDatagram(
            [first.frame] + released.map(\.frame), source: v6 ? Topology.lip6 : Topology.lips[0],
            destination: v6 ? Topology.rs6 : Topology.rs1, destinationPort: 5353)
        // Nothing is left to expire.
        dp.advance(now: 10_000, network: network)
        #expect(dp.counters[.fragmentHoldExpired] == 0 && dp.pendingOutputCount == 0)
    }

    @Test func aDuplicateFirstFragmentKeepsTheDatagramsIdentification() {
        var dp = Fragments.dataplane()
        let pieces = Fragments.fragments()
        let first = dp.run(pieces[0], from: .external, now: 10, network: network)
        let later = dp.run(pieces[1], from: .external, now: 11, network: network)
        let again = dp.run(pieces[0], from: .external, now: 12, network: network)
        let last = dp.run(pieces[2], from: .external, now: 13, network: network)
        #expect(again.verdict == .transmit(.internal))
        #expect(again.frame == first.frame)
        expectDatagram(
            [again.frame, later.frame, last.frame], source: Topology.lips[0], destination: Topology.rs1,
            destinationPort: 5353)
        // A later fragment seen twice is forwarded twice, alike: the receiver's reassembly drops the copy.
        let twice = dp.run(pieces[1], from: .external, now: 14, network: network)
        #expect(twice.frame == later.frame)
        // The next datagram of the same flow gets a new identification.
        let next = dp.run(Fragments.fragments(identification: 0x1235)[0], from: .external, now: 15, network: network)
        #expect(Fragments.header(next.frame).identification != Fragments.header(first.frame).identification)
    }

    @Test func overlappingLaterFragmentsAreForwardedAlikeForTheReceiverToJudge() {
        // Sluice does not reassemble: fragments whose ranges overlap each other (but not the transport
        // header) all get their datagram's rewrite; the receiver's reassembly decides (RFC 5722 for IPv6).
        var dp = Fragments.dataplane()
        let coarse = Fragmenter.fragments(of: Fragments.query(), chunk: 1480, identification: 0x2222)
        let fine = Fragmenter.fragments(of: Fragments.query(), chunk: 800, identification: 0x2222)
        let first = dp.run(coarse[0], from: .external, now: 1, network: network)
        #expect(first.verdict == .transmit(.internal))
        let overlapping = dp.run(fine[1], from: .external, now: 2, network: network)
        let rest = coarse.dropFirst().map { dp.run($0, from: .external, now: 3, network: network) }
        #expect(overlapping.verdict == .transmit(.internal) && rest.allSatisfy { $0.verdict == .transmit(.internal) })
        #expect(Fragments.header(overlapping.frame) == Fragments.header(first.frame))
        expectDatagram(
            [first.frame] + rest.map(\.frame), source: Topology.lips[0], destination: Topology.rs1,
            destinationPort: 5353)
    }

    @Test func fragmentsInsideTheHeaderAndTinyFirstsAreDroppedAndCounted() {
        var dp = Fragments.dataplane()
        let segment = PacketBuilder().ethernet(src: Topology.clientMAC, dst: Topology.extMAC)
            .ipv4(src: Topology.client, dst: Topology.vip, df: false)
            .tcp(sport: 40000, dport: 80, flags: TCPFlag.syn, payload: Fragments.payload).build()
        let pieces = Fragmenter.fragments(of: segment, chunk: 8, identification: 3)
        #expect(dp.run(pieces[0], from: .external, now: 1, network: network).verdict == .drop(.tinyFragment))
        #expect(dp.run(pieces[1], from: .external, now: 1, network: network).verdict == .drop(.fragmentOverlap))
        #expect(dp.counters[.tinyFragment] == 1 && dp.counters[.fragmentOverlap] == 1)
    }

    @Test func aHeldFragmentExpiresAfterTheHoldTime() {
        var dp = Fragments.dataplane()
        let pieces = Fragments.fragments()
        #expect(dp.run(pieces[1], from: .external, now: 1_000, network: network).verdict == .drop(.fragmentHeld))
        dp.advance(now: 1_000 + FragmentHold.maximumHold - 1, network: network)
        #expect(dp.counters[.fragmentHoldExpired] == 0)
        dp.advance(now: 1_000 + FragmentHold.maximumHold, network: network)
        #expect(dp.counters[.fragmentHoldExpired] == 1)
        // Its first fragment, late, is still forwarded; nothing is left to release.
        #expect(dp.run(pieces[0], from: .external, now: 1_300, network: network).verdict == .transmit(.internal))
        #expect(dp.pendingOutputCount == 0)
    }

    @Test func aLaterFragmentAfterTheEntryExpiredWaitsAndExpires() {
        var dp = Fragments.dataplane()
        let pieces = Fragments.fragments()
        #expect(dp.run(pieces[0], from: .external, now: 1_000, network: network).verdict == .transmit(.internal))
        let late = 1_000 + FragmentTable.entryLifetime
        #expect(dp.run(pieces[1], from: .external, now: late, network: network).verdict == .drop(.fragmentHeld))
        dp.advance(now: late + FragmentHold.maximumHold, network: network)
        #expect(dp.counters[.fragmentHoldExpired] == 1 && dp.pendingOutputCount == 0)
    }

    @Test func aFullTableDropsTheFirstFragment() {
        let table = FragmentTable(hashKey: (7, 8))
        var dp = Fragments.dataplane(table: table)
        let key = FragmentKey(source: Topology.client, destination: Topology.vip, identification: 0x1234, transport: 17)
        let elsewhere = FragmentRewrite(
            source: Topology.lips[1], destination: Topology.rs2, identification: 1, direction: .inbound)
        for other in Self.keys(sharingTheWindowOf: key, in: table, count: FragmentTable.probeLength) {
            #expect(table.record(other, elsewhere, now: 1_000))
        }
        let pieces = Fragments.fragments()
        #expect(dp.run(pieces[0], from: .external, now: 1_000, network: network).verdict == .drop(.fragmentTableFull))
        #expect(dp.counters[.fragmentTableFull] == 1 && dp.counters[.firstFragmentsForwarded] == 0)
        // The later fragments find nothing and wait; once the others expired, the datagram goes through.
        #expect(dp.run(pieces[1], from: .external, now: 1_001, network: network).verdict == .drop(.fragmentHeld))
        let later = 1_000 + FragmentTable.entryLifetime
        #expect(dp.run(pieces[0], from: .external, now: later, network: network).verdict == .transmit(.internal))
        #expect(dp.run(pieces[2], from: .external, now: later, network: network).verdict == .transmit(.internal))
    }

    @Test func aFullHoldDropsAndCounts() {
        var dp = Fragments.dataplane()
        for id in 0..<UInt32(FragmentHold.slotCount) {
            let piece = Fragments.fragments(identification: 0x100 + id)[1]
            #expect(dp.run(piece, from: .external, now: 5, network: network).verdict == .drop(.fragmentHeld))
        }
        let more = Fragments.fragments(identification: 0x9999)[1]
        #expect(dp.run(more, from: .external, now: 5, network: network).verdict == .drop(.fragmentHoldFull))
        #expect(dp.counters[.fragmentHeld] == UInt64(FragmentHold.slotCount) && dp.counters[.fragmentHoldFull] == 1)
        // The hold time frees every slot.
        dp.advance(now: 5 + FragmentHold.maximumHold, network: network)
        #expect(dp.counters[.fragmentHoldExpired] == UInt64(FragmentHold.slotCount))
        #expect(dp.run(more, from: .external, now: 300, network: network).verdict == .drop(.fragmentHeld))
    }

    @Test func heldFragmentsLongerThanARegularOutputSlotLeaveInLargeOnesAsRoomAllows() throws {
        // Links of 4000 bytes: fragments of 3000 bytes of payload do not fit the output queue's 2048-byte
        // slots. The queue has 8 large ones; the ninth held fragment waits for the next tick.
        let reachable = NeighbourEntry.State.reachable
        let wide = NetworkView(
            interfaces: [
                InterfaceInfo(index: 1, mac: Topology.extMAC, mtu: 4000),
                InterfaceInfo(index: 2, mac: Topology.intMAC, mtu: 4000),
            ],
            routes: [
                Route(prefix: Topology.ip("198.51.100.0"), prefixLength: 24, interfaceIndex: 1, gateway: nil),
                Route(prefix: Topology.ip("10.30.0.0"), prefixLength: 24, interfaceIndex: 2, gateway: Topology.router),
            ],
            neighbours: [
                NeighbourEntry(interfaceIndex: 1, address: Topology.client, mac: Topology.clientMAC, state: reachable),
                NeighbourEntry(interfaceIndex: 2, address: Topology.router, mac: Topology.routerMAC, state: reachable),
            ], generation: 1)
        let payload = (0..<30_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let query = PacketBuilder().ethernet(src: Topology.clientMAC, dst: Topology.extMAC)
            .ipv4(src: Topology.client, dst: Topology.vip, df: false).udp(sport: 6000, dport: 53, payload: payload)
            .build()
        let pieces = Fragmenter.fragments(of: query, chunk: 3000, identification: 0x7777)
        #expect(pieces.count == 11 && pieces.dropLast().allSatisfy { $0.count > OutputQueue.slotSize })
        var dp = Fragments.dataplane()
        for piece in pieces.dropFirst().prefix(9) {
            #expect(dp.run(piece, from: .external, now: 1, network: wide).verdict == .drop(.fragmentHeld))
        }
        let first = dp.run(pieces[0], from: .external, now: 2, network: wide)
        #expect(first.verdict == .transmit(.internal))
        var released = dp.takeOutput()
        #expect(released.count == 8 && dp.counters[.fragmentsReleased] == 8)
        dp.advance(now: 3, network: wide)
        released += dp.takeOutput()
        #expect(released.count == 9 && dp.counters[.fragmentHoldExpired] == 0)
        let last = dp.run(pieces[10], from: .external, now: 4, network: wide)
        #expect(last.verdict == .transmit(.internal))
        let whole = try #require(Fragmenter.reassemble([first.frame] + released.map(\.frame) + [last.frame]))
        #expect(FrameChecker.problem(whole) == nil)
        #expect(Fragments.udp(whole).payload == payload)
    }

    @Test func twoDataPlanesShareOneTable() {
        let table = FragmentTable(hashKey: (9, 10))
        var a = Fragments.dataplane(worker: 0, workers: 2, table: table)
        var b = Fragments.dataplane(worker: 1, workers: 2, table: table)
        let pieces = Fragments.fragments()
        // The first fragment belongs to worker a, which owns the connection (b would hand it there);
        // the others reach b.
        #expect(b.run(pieces[0], from: .external, now: 9, network: network).verdict == .handOff(0))
        let first = a.run(pieces[0], from: .external, now: 10, network: network)
        #expect(first.verdict == .transmit(.internal))
        let second = b.run(pieces[1], from: .external, now: 11, network: network)
        #expect(second.verdict == .transmit(.internal))
        // b forwards what a translated: it has no connection of its own for it.
        #expect(b.connectionCount == 0 && b.counters[.laterFragmentsForwarded] == 1)

        // A later fragment that reaches b before a translates the first waits, and leaves at b's next tick.
        let next = Fragments.fragments(identification: 0x4321)
        #expect(b.run(next[2], from: .external, now: 20, network: network).verdict == .drop(.fragmentHeld))
        let nextFirst = a.run(next[0], from: .external, now: 21, network: network)
        #expect(a.pendingOutputCount == 0)
        b.advance(now: 22, network: network)
        let released = b.takeOutput()
        #expect(released.count == 1 && b.counters[.fragmentsReleased] == 1)
        let nextSecond = b.run(next[1], from: .external, now: 23, network: network)
        expectDatagram(
            [first.frame, second.frame, b.run(pieces[2], from: .external, now: 24, network: network).frame],
            source: Topology.lips[0], destination: Topology.rs1, destinationPort: 5353)
        expectDatagram(
            [nextFirst.frame, nextSecond.frame] + released.map(\.frame), source: Fragments.header(first.frame).source,
            destination: Topology.rs1, destinationPort: 5353)
    }

    @Test func laterFragmentsGetNoICMPErrors() {
        var dp = Fragments.dataplane()
        let pieces = Fragments.fragments()
        #expect(dp.run(pieces[0], from: .external, now: 1, network: network).verdict == .transmit(.internal))
        // On the wrong side: a client's datagram from the servers' interface.
        #expect(dp.run(pieces[1], from: .internal, now: 2, network: network).verdict == .drop(.wrongSide))
        // Too big for a 1000-byte path towards the server: dropped, no fragmentation needed (a first
        // fragment of 800 bytes went through; a later one of 1480 does not).
        var narrowed = Fragments.dataplane()
        let narrow = Topology.network(rsMTU: 1000)
        let small = Fragmenter.fragments(of: Fragments.query(), chunk: 800, identification: 0x3000)
        let large = Fragmenter.fragments(of: Fragments.query(), chunk: 1480, identification: 0x3000)
        #expect(narrowed.run(small[0], from: .external, now: 3, network: narrow).verdict == .transmit(.internal))
        #expect(narrowed.run(large[1], from: .external, now: 3, network: narrow).verdict == .drop(.tooBig))
        #expect(narrowed.counters[.icmpGenerated] == 0 && narrowed.pendingOutputCount == 0)
        // Out of hops: dropped, no time exceeded (RFC 1122 §3.2.2).
        let expiring = Fragments.fragments(identification: 0x2000, ttl: 1)
        #expect(dp.run(expiring[1], from: .external, now: 4, network: network).verdict == .drop(.fragmentHeld))
        #expect(dp.run(expiring[0], from: .external, now: 4, network: network).verdict == .transmit(.external))
        #expect(dp.counters[.icmpGenerated] == 1)
        #expect(dp.takeOutput().isEmpty)
        #expect(dp.counters[.fragmentHeld] == 1)
        // The first fragment's time exceeded recorded nothing, so its later fragment waits.
        dp.advance(now: 4 + FragmentHold.maximumHold, network: network)
        #expect(dp.counters[.fragmentHoldExpired] == 1)
        var hop = pieces[2]
        hop[22] = 1
        PacketBuilder.fixIPv4HeaderChecksum(&hop)
        #expect(dp.run(hop, from: .external, now: 5, network: network).verdict == .drop(.ttlExceeded))
        #expect(dp.counters[.icmpGenerated] == 1 && dp.pendingOutputCount == 0)
        // Not to one of our addresses: nothing to wait for.
        var stray = pieces[1]
        stray[33] &+= 1
        PacketBuilder.fixIPv4HeaderChecksum(&stray)
        #expect(dp.run(stray, from: .external, now: 6, network: network).verdict == .drop(.noService))
    }

    @Test func tcpFragmentsOfAPlainConnectionAndRefusalsWhereTheSegmentMayChange() throws {
        var dp = Fragments.dataplane()
        let b = PacketBuilder().ethernet(src: Topology.clientMAC, dst: Topology.extMAC)
        let syn = b.ipv4(src: Topology.client, dst: Topology.vip).tcp(
            sport: 41000, dport: 80, seq: 100, flags: TCPFlag.syn
        )
        .build()
        let opened = dp.run(syn, from: .external, now: 1, network: network)
        #expect(opened.verdict == .transmit(.internal))
        let data = b.ipv4(src: Topology.client, dst: Topology.vip, df: false)
            .tcp(sport: 41000, dport: 80, seq: 101, ack: 1, flags: TCPFlag.ack, payload: Fragments.payload).build()
        var out: [[UInt8]] = []
        for piece in Fragmenter.fragments(of: data, chunk: 1480, identification: 5) {
            let result = dp.run(piece, from: .external, now: 2, network: network)
            #expect(result.verdict == .transmit(.internal))
            out.append(result.frame)
        }
        let whole = try #require(Fragmenter.reassemble(out))
        #expect(FrameChecker.problem(whole) == nil)
        // The sequence number was translated like the SYN's.
        #expect(whole.u32(38) == opened.frame.u32(38) &+ 1)

        // A SYN-proxied service: the first fragment is refused.
        var configuration = Fragments.configuration()
        configuration.services[0].synProxy = true
        var proxied = Dataplane(
            configuration: configuration, worker: 0, workerCount: 1, externalInterface: 1, internalInterface: 2,
            secret: (1, 2))
        let first = Fragmenter.fragments(of: data, chunk: 1480, identification: 6)[0]
        #expect(
            proxied.run(first, from: .external, now: 1, network: network).verdict
                == .drop(.fragmentRewriteUnsupported))
        #expect(proxied.counters[.fragmentRewriteUnsupported] == 1)
    }
}
