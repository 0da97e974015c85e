// The connection table's reply index (ConnectionTable.swift): real-server replies are found by LIP and
// local port without the hashed index. Chains of connections sharing a LIP:lport (ports are unique per
// reply tuple only), a port reused after its connection went, LIPs pinned and unpinned at reload,
// entries with a LIP nobody pinned (a peer's, as sync installs them), ports of another worker, IPv6,
// and a full LIP registry. `hashedKeyCount` shows which index holds an entry's outbound key.

import SluiceCore
import SluicePacket
import Testing

@Suite struct ReplyIndexTests {
    static let seed: (UInt64, UInt64) = (0x0BAD_F00D_0BAD_F00D, 0x1234_5678_9ABC_DEF0)
    static let lipA = IPAddress(v4: 0xAC10_0001)
    static let lipB = IPAddress(v4: 0xAC10_0002)

    /// A connection from client port `cport` via `local`:`lport` to real server `realHost`.
    static func connection(
        cport: UInt16, local: IPAddress = lipA, lport: UInt16, realHost: UInt32 = 0x64, rport: UInt16 = 8080,
        transport: UInt8 = 6
    ) -> Connection {
        Connection(
            client: IPAddress(v4: 0x0A00_0001), clientPort: cport, vip: IPAddress(v4: 0xC000_0201), vport: 80,
            local: local, localPort: lport, real: IPAddress(v4: 0xAC10_0000 | realHost), realPort: rport,
            transport: transport, state: .established, serviceIndex: 0, realServerIndex: 0, expiresAt: 1000)
    }

    static func v6Connection(cport: UInt16, lport: UInt16) -> Connection {
        Connection(
            client: IPAddress(v6High: 0x2001_0db8_0000_0001, low: 7), clientPort: cport,
            vip: IPAddress(v6High: 0x2001_0db8_0000_ffff, low: 1), vport: 443,
            local: IPAddress(v6High: 0xfd00_0000_0000_0000, low: 0xAC10_0001), localPort: lport,
            real: IPAddress(v6High: 0xfd00_0000_0000_0001, low: 0x10), realPort: 443, transport: 6,
            state: .established, serviceIndex: 0, realServerIndex: 0, expiresAt: 1000)
    }

    /// Replies to a pinned LIP are in the reply index: one hashed key per connection.
    @Test func pinnedLocalAddressIndexesRepliesDirectly() {
        var table = ConnectionTable(capacity: 64, seed: Self.seed)
        table.pinLocalAddresses([Self.lipA, Self.lipB])
        #expect(table.localAddressCount == 2)
        var ids: [ConnectionID] = []
        for n in 0..<20 {
            let c = Self.connection(
                cport: UInt16(1000 + n), local: n % 2 == 0 ? Self.lipA : Self.lipB, lport: UInt16(5000 + n / 2))
            ids.append(table.insert(c)!)
        }
        #expect(table.hashedKeyCount == 20)
        for n in 0..<20 {
            let c = table[ids[n]]
            let reply = table.lookup(c.outboundKey)
            #expect(reply?.id == ids[n] && reply?.direction == .outbound)
            #expect(table.lookup(c.inboundKey)?.direction == .inbound)
        }
        // Another real server, port, protocol or LIP on the same lport: not these connections.
        var key = table[ids[0]].outboundKey
        key.source = IPAddress(v4: 0xAC10_0065)
        #expect(table.lookup(key) == nil)
        key = table[ids[0]].outboundKey
        key.sourcePort = 8081
        #expect(table.lookup(key) == nil)
        key.sourcePort = 8080
        key.transport = 17
        #expect(table.lookup(key) == nil)
        key.transport = 6
        key.destination = IPAddress(v4: 0xAC10_0003)
        #expect(table.lookup(key) == nil)
    }

    /// Connections to different real servers share a LIP:lport; each is found, and taking any of
    /// them off the chain (head, middle, tail) leaves the others.
    @Test func sharedLocalPortChains() {
        for victim in 0..<4 {
            var table = ConnectionTable(capacity: 16, seed: Self.seed)
            table.pinLocalAddresses([Self.lipA])
            let cs = [
                Self.connection(cport: 1, lport: 6000, realHost: 1),
                Self.connection(cport: 2, lport: 6000, realHost: 2),
                Self.connection(cport: 3, lport: 6000, realHost: 2, rport: 9090),
                Self.connection(cport: 4, lport: 6000, realHost: 2, transport: 17),
            ]
            let ids = cs.map { table.insert($0)! }
            #expect(table.hashedKeyCount == 4)
            // The same reply tuple again is refused.
            #expect(table.insert(Self.connection(cport: 9, lport: 6000, realHost: 1)) == nil)
            #expect(table.remove(ids[victim]) == true)
            for (n, c) in cs.enumerated() {
                #expect(table.lookup(c.outboundKey)?.id == (n == victim ? nil : ids[n]))
                #expect(table.lookup(c.inboundKey)?.id == (n == victim ? nil : ids[n]))
            }
            #expect(table.hashedKeyCount == 3)
        }
    }

    /// A port whose connection went is taken by the next one; replies find the new connection only.
    @Test func reusedPortFindsTheNewConnection() {
        var table = ConnectionTable(capacity: 4, seed: Self.seed)
        table.pinLocalAddresses([Self.lipA])
        let old = Self.connection(cport: 1, lport: 7000)
        let oldID = table.insert(old)!
        #expect(table.remove(oldID) == true)
        #expect(table.lookup(old.outboundKey) == nil)
        let fresh = Self.connection(cport: 2, lport: 7000)
        let freshID = table.insert(fresh)!
        #expect(table.lookup(fresh.outboundKey)?.id == freshID)
        #expect(table.lookup(old.inboundKey) == nil)
        #expect(table[table.lookup(old.outboundKey)!.id].clientPort == 2, "the reply tuple is the new one's")
    }

    /// A reload that removes a LIP: its connections' replies are still found until the last one goes,
    /// then the LIP leaves the index; a LIP still pinned stays without connections.
    @Test func localAddressRemovedAtReload() {
        var table = ConnectionTable(capacity: 8, seed: Self.seed)
        table.pinLocalAddresses([Self.lipA, Self.lipB])
        let a1 = table.insert(Self.connection(cport: 1, local: Self.lipA, lport: 100))!
        let a2 = table.insert(Self.connection(cport: 2, local: Self.lipA, lport: 101))!
        table.pinLocalAddresses([Self.lipB])
        #expect(table.isRegistered(Self.lipA) == true)
        #expect(table.isRegistered(Self.lipB) == true)
        #expect(table.lookup(table[a1].outboundKey)?.id == a1)
        #expect(table.remove(a1) == true)
        #expect(table.isRegistered(Self.lipA) == true)
        #expect(table.lookup(table[a2].outboundKey)?.id == a2)
        #expect(table.remove(a2) == true)
        #expect(table.isRegistered(Self.lipA) == false)
        #expect(table.isRegistered(Self.lipB) == true)
        #expect(table.localAddressCount == 1)
        // Added back by a later reload: a fresh registration (the dropped slot is reused).
        table.pinLocalAddresses([Self.lipB, Self.lipA])
        let again = table.insert(Self.connection(cport: 3, local: Self.lipA, lport: 100))!
        #expect(table.lookup(table[again].outboundKey)?.id == again)
        #expect(table.hashedKeyCount == 1)
    }

    /// A connection on a LIP nobody pinned (a peer's, installed by sync) registers it; the LIP goes
    /// with its last connection.
    @Test func unpinnedLocalAddressIsRegisteredByItsConnections() {
        var table = ConnectionTable(capacity: 8, seed: Self.seed)
        table.pinLocalAddresses([Self.lipA])
        let peerLIP = IPAddress(v4: 0xAC10_0099)
        let c = Self.connection(cport: 1, local: peerLIP, lport: 40_000)
        let id = table.insert(c)!
        #expect(table.isRegistered(peerLIP) == true)
        #expect(table.hashedKeyCount == 1)
        #expect(table.lookup(c.outboundKey)?.id == id)
        #expect(table.remove(id) == true)
        #expect(table.isRegistered(peerLIP) == false)
        #expect(table.isRegistered(Self.lipA) == true)
    }

    /// Worker 1 of 2 indexes odd ports directly; an even port (worker 0's) is accepted in the hashed
    /// index and found there.
    @Test func portsOfAnotherWorkerUseTheHashedIndex() {
        var table = ConnectionTable(capacity: 8, seed: Self.seed, worker: 1, workerCount: 2)
        table.pinLocalAddresses([Self.lipA])
        let mine = Self.connection(cport: 1, lport: 5001)
        let theirs = Self.connection(cport: 2, lport: 5000)
        let mineID = table.insert(mine)!
        #expect(table.hashedKeyCount == 1)
        let theirsID = table.insert(theirs)!
        #expect(table.hashedKeyCount == 3)
        #expect(table.lookup(mine.outboundKey)?.id == mineID)
        #expect(table.lookup(theirs.outboundKey)?.id == theirsID)
        #expect(table.lookup(theirs.outboundKey)?.direction == .outbound)
        #expect(table.remove(theirsID) == true)
        #expect(table.hashedKeyCount == 1)
        #expect(table.lookup(theirs.outboundKey) == nil)
        #expect(table.lookup(mine.outboundKey)?.id == mineID)
    }

    /// IPv6 LIPs: found by the full address; an IPv4 LIP with the same low bits is another LIP.
    @Test func ipv6LocalAddresses() {
        var table = ConnectionTable(capacity: 8, seed: Self.seed)
        let c6 = Self.v6Connection(cport: 1, lport: 3000)
        table.pinLocalAddresses([c6.local, Self.lipA])
        let id6 = table.insert(c6)!
        let c4 = Self.connection(cport: 1, lport: 3000, realHost: 0x10, rport: 443)
        let id4 = table.insert(c4)!
        #expect(table.hashedKeyCount == 2)
        #expect(table.lookup(c6.outboundKey)?.id == id6)
        #expect(table.lookup(c4.outboundKey)?.id == id4)
        var other = c6.outboundKey
        other.destination.high ^= 1
        #expect(table.lookup(other) == nil)
        other = c6.outboundKey
        other.source.high ^= 1
        #expect(table.lookup(other) == nil)
        #expect(table.remove(id6) == true)
        #expect(table.lookup(c6.outboundKey) == nil)
        #expect(table.lookup(c4.outboundKey)?.id == id4)
    }

    /// A full registry: the next LIP's connections go to the hashed index. When that LIP is
    /// registered later (a slot freed, then pinned), its earlier connections are still found and
    /// removed from the hashed index, and new ones use the reply index.
    @Test func fullRegistryFallsBackToTheHashedIndex() {
        let limit = ConnectionTable.maximumLocalAddresses
        // 64 workers: a LIP's block of the reply index is 1 024 entries.
        var table = ConnectionTable(capacity: limit + 8, seed: Self.seed, worker: 0, workerCount: 64)
        var ids: [ConnectionID] = []
        for n in 0..<limit {
            ids.append(
                table.insert(
                    Self.connection(cport: UInt16(1 + n), local: IPAddress(v4: 0x0B00_0000 + UInt32(n)), lport: 64))!
            )
        }
        #expect(table.localAddressCount == limit)
        #expect(table.hashedKeyCount == limit)
        let late = IPAddress(v4: 0x0C00_0001)
        let early = Self.connection(cport: 60_000, local: late, lport: 128)
        let earlyID = table.insert(early)!
        #expect(table.isRegistered(late) == false)
        #expect(table.hashedKeyCount == limit + 2)
        #expect(table.lookup(early.outboundKey)?.id == earlyID)
        #expect(table.remove(ids[0]) == true)
        table.pinLocalAddresses([late])
        #expect(table.isRegistered(late) == true)
        #expect(table.lookup(early.outboundKey)?.id == earlyID)
        let next = Self.connection(cport: 60_001, local: late, lport: 192)
        let nextID = table.insert(next)!
        #expect(table.lookup(next.outboundKey)?.id == nextID)
        #expect(table.remove(earlyID) == true)
        #expect(table.lookup(early.outboundKey) == nil)
        #expect(table.lookup(next.outboundKey)?.id == nextID)
        #expect(table.hashedKeyCount == limit)
    }

    /// Random churn over two LIPs, fifteen ports and seven servers (105 distinct reply tuples, sharing
    /// LIP:lport in chains), against a dictionary.
    @Test func churnWithSharedPortsMatchesModel() {
        var table = ConnectionTable(capacity: 64, seed: Self.seed)
        table.pinLocalAddresses([Self.lipA])
        var model: [Int: ConnectionID] = [:]
        var rng = TestRandom(state: 7)
        func make(_ n: Int) -> Connection {
            Self.connection(
                cport: UInt16(n), local: n % 3 == 0 ? Self.lipB : Self.lipA, lport: UInt16(n % 15),
                realHost: UInt32(n % 7))
        }
        for _ in 0..<5_000 {
            let n = rng.below(105)
            if let id = model[n] {
                #expect(table.remove(id) == true)
                model[n] = nil
            } else if let id = table.insert(make(n)) {
                model[n] = id
            }
            for m in 0..<105 where m % 11 == n % 11 {
                #expect(table.lookup(make(m).outboundKey)?.id == model[m])
            }
        }
        for m in 0..<105 {
            #expect(table.lookup(make(m).outboundKey)?.id == model[m])
            #expect(table.lookup(make(m).inboundKey)?.id == model[m])
        }
        #expect(table.hashedKeyCount == model.count)
    }
}
