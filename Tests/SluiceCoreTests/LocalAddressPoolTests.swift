// A local-address group for one worker: round-robin over LIPs, ports unique per reply tuple (a
// candidate busy towards one server is free towards another), falling through LIPs with nothing
// free, family selection, exhaustion counting, releases by address, per-address statistics.

import SluiceCore
import SluicePacket
import Testing

@Suite struct LocalAddressPoolTests {
    static let a = IPAddress(v4: 0x0A00_0001)
    static let b = IPAddress(v4: 0x0A00_0002)
    static let c = IPAddress(v4: 0x0A00_0003)
    static let v6 = IPAddress(v6High: 0xfd00_0000_0000_0000, low: 7)
    static let server1 = IPAddress(v4: 0x0A14_0001)
    static let server2 = IPAddress(v4: 0x0A14_0002)

    /// Stands in for the connection table: the (server, LIP, port) tuples in use.
    struct Tuples {
        var used: Set<String> = []
        func isFree(_ server: IPAddress, _ lip: IPAddress, _ port: UInt16) -> Bool {
            !used.contains("\(server)>\(lip):\(port)")
        }
        mutating func allocate(_ pool: inout LocalAddressPool, towards server: IPAddress) -> LocalPortChoice? {
            let found = pool.search(v6: server.isV6) { isFree(server, $0, $1) }
            guard let choice = found else {
                pool.countExhausted(v6: server.isV6)
                return nil
            }
            pool.take(choice)
            used.insert("\(server)>\(choice.address):\(choice.port)")
            return choice
        }
        mutating func release(_ pool: inout LocalAddressPool, _ choice: LocalPortChoice, towards server: IPAddress) {
            used.remove("\(server)>\(choice.address):\(choice.port)")
            pool.release(address: choice.address, port: choice.port)
        }
    }

    @Test func roundRobinOverAddresses() {
        var pool = LocalAddressPool(addresses: [Self.a, Self.b, Self.c], range: 1000...1099, worker: 0, workerCount: 1)
        var tuples = Tuples()
        var order: [IPAddress] = []
        for _ in 0..<6 { order.append(tuples.allocate(&pool, towards: Self.server1)!.address) }
        #expect(order == [Self.a, Self.b, Self.c, Self.a, Self.b, Self.c])
        #expect(pool.inUse(Self.a) == 2)
        #expect(pool.inUseTotal == 6)
        #expect(pool.inUse(IPAddress(v4: 1)) == 0)
    }

    @Test func portsAreUniquePerServerNotPerAddress() {
        // One LIP, 4 ports for worker 0 of 1 in 10...13.
        var pool = LocalAddressPool(addresses: [Self.a], range: 10...13, worker: 0, workerCount: 1)
        var tuples = Tuples()
        var toFirst: [UInt16] = []
        while let choice = tuples.allocate(&pool, towards: Self.server1) { toFirst.append(choice.port) }
        #expect(toFirst.sorted() == [10, 11, 12, 13])
        #expect(pool.exhausted == 1, "the fifth connection to the same server finds nothing")
        // The same four ports again towards another server: capacity grows with the servers.
        var toSecond: [UInt16] = []
        while let choice = tuples.allocate(&pool, towards: Self.server2) { toSecond.append(choice.port) }
        #expect(toSecond.sorted() == [10, 11, 12, 13])
        #expect(pool.inUseTotal == 8)
        #expect(pool.free(Self.a) == 0)
    }

    @Test func aBusyAddressIsSkippedThenFailureCounted() {
        // 2 ports per LIP for worker 1 of 2 in 10...13: 11 and 13.
        var pool = LocalAddressPool(addresses: [Self.a, Self.b], range: 10...13, worker: 1, workerCount: 2)
        var tuples = Tuples()
        var got: [LocalPortChoice] = []
        while let choice = tuples.allocate(&pool, towards: Self.server1) { got.append(choice) }
        #expect(got.map { "\($0.address.v4 & 0xff):\($0.port)" } == ["1:11", "2:11", "1:13", "2:13"])
        #expect(pool.exhausted == 1)
        #expect(tuples.allocate(&pool, towards: Self.server1) == nil)
        #expect(pool.exhausted == 2)
        // Free one port on b only: the next allocation finds it whatever the cursor says.
        tuples.release(&pool, got[1], towards: Self.server1)
        let again = tuples.allocate(&pool, towards: Self.server1)
        #expect(again?.address == Self.b && again?.port == 11)
        #expect(pool.exhausted == 2)
    }

    @Test func theSearchIsBounded() {
        // A slice of 1000 ports, all but the last in use towards one server: the search gives up after
        // `probeLimit` candidates on the LIP instead of scanning the slice, and the next search starts
        // past the refused candidates.
        var pool = LocalAddressPool(addresses: [Self.a], range: 1000...1999, worker: 0, workerCount: 1)
        var asked = 0
        let found = pool.search(v6: false) { _, port in
            asked += 1
            return port == 1999
        }
        #expect(found == nil)
        #expect(asked == LocalAddressPool.probeLimit)
        pool.countExhausted(v6: false)
        var first: UInt16 = 0
        _ = pool.search(v6: false) { _, port in
            first = port
            return true
        }
        #expect(first == UInt16(1000 + LocalAddressPool.probeLimit))
    }

    @Test func familySelection() {
        var pool = LocalAddressPool(
            addresses: [Self.a, Self.v6, Self.b], range: 2000...2001, worker: 0, workerCount: 1)
        var tuples = Tuples()
        let server6 = IPAddress(v6High: 0xfd00_0000_0000_0014, low: 1)
        #expect(tuples.allocate(&pool, towards: server6)?.address == Self.v6)
        #expect(tuples.allocate(&pool, towards: server6)?.address == Self.v6)
        #expect(tuples.allocate(&pool, towards: server6) == nil)
        #expect(pool.exhausted == 1)
        let v4a = tuples.allocate(&pool, towards: Self.server1)
        let v4b = tuples.allocate(&pool, towards: Self.server1)
        #expect(v4a?.address.isV6 == false && v4b?.address.isV6 == false)
        #expect(v4a?.address != v4b?.address)
        // A group with no IPv6 LIP cannot serve an IPv6 server.
        var only4 = LocalAddressPool(addresses: [Self.a], range: 2000...2001, worker: 0, workerCount: 1)
        #expect(tuples.allocate(&only4, towards: server6) == nil)
        #expect(only4.exhausted == 1)
    }

    @Test func releasesAndStatistics() {
        var pool = LocalAddressPool(
            addresses: [Self.a, Self.b, Self.a], range: 3000...3003, worker: 0, workerCount: 1)
        #expect(pool.addresses == [Self.a, Self.b], "duplicate LIPs are dropped")
        var tuples = Tuples()
        let x = tuples.allocate(&pool, towards: Self.server1)!
        let y = tuples.allocate(&pool, towards: Self.server1)!
        tuples.release(&pool, x, towards: Self.server1)
        pool.release(address: x.address, port: x.port)  // nothing left in use on that LIP
        pool.release(address: Self.c, port: 3000)  // not in the group
        #expect(pool.ignoredReleases == 2)
        #expect(pool.inUseTotal == 1)
        #expect(pool.freeTotal == 7)
        let stats = pool.statistics
        #expect(stats.map(\.address) == [Self.a, Self.b])
        #expect(stats.map(\.capacity) == [4, 4])
        #expect(stats.first { $0.address == y.address }?.inUse == 1)
        #expect(pool.free(y.address) == 3)
    }
}
