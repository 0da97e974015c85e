// A local-address group for one worker: round-robin over LIPs, falling through exhausted LIPs,
// family selection, exhaustion counting, releases by address, per-address statistics.

import SluiceCore
import SluicePacket
import Testing

@Suite struct LocalAddressPoolTests {
    static let a = IPAddress(v4: 0x0A00_0001)
    static let b = IPAddress(v4: 0x0A00_0002)
    static let c = IPAddress(v4: 0x0A00_0003)
    static let v6 = IPAddress(v6High: 0xfd00_0000_0000_0000, low: 7)

    @Test func roundRobinOverAddresses() {
        var pool = LocalAddressPool(addresses: [Self.a, Self.b, Self.c], range: 1000...1099, worker: 0, workerCount: 1)
        var order: [IPAddress] = []
        for _ in 0..<6 { order.append(pool.allocate()!.address) }
        #expect(order == [Self.a, Self.b, Self.c, Self.a, Self.b, Self.c])
        #expect(pool.inUse(Self.a) == 2)
        #expect(pool.inUseTotal == 6)
        #expect(pool.inUse(IPAddress(v4: 1)) == 0)
    }

    @Test func exhaustedAddressIsSkippedThenFailureCounted() {
        // 2 ports per LIP for worker 1 of 2 in 10...13: 11 and 13.
        var pool = LocalAddressPool(addresses: [Self.a, Self.b], range: 10...13, worker: 1, workerCount: 2)
        var got: [String] = []
        while let r = pool.allocate() { got.append("\(r.address.v4 & 0xff):\(r.port)") }
        #expect(got == ["1:11", "2:11", "1:13", "2:13"])
        #expect(pool.exhausted == 1)
        #expect(pool.allocate() == nil)
        #expect(pool.exhausted == 2)
        // Free one port on b only: the next allocation finds it whatever the cursor says.
        pool.release(address: Self.b, port: 11)
        let r = pool.allocate()
        #expect(r?.address == Self.b && r?.port == 11)
        #expect(pool.exhausted == 2)
    }

    @Test func familySelection() {
        var pool = LocalAddressPool(
            addresses: [Self.a, Self.v6, Self.b], range: 2000...2001, worker: 0, workerCount: 1)
        #expect(pool.allocate(v6: true)?.address == Self.v6)
        #expect(pool.allocate(v6: true)?.address == Self.v6)
        #expect(pool.allocate(v6: true) == nil)
        #expect(pool.exhausted == 1)
        let v4a = pool.allocate(v6: false)
        let v4b = pool.allocate(v6: false)
        #expect(v4a?.address.isV6 == false && v4b?.address.isV6 == false)
        #expect(v4a?.address != v4b?.address)
        // A group with no IPv6 LIP cannot serve an IPv6 request.
        var only4 = LocalAddressPool(addresses: [Self.a], range: 2000...2001, worker: 0, workerCount: 1)
        #expect(only4.allocate(v6: true) == nil)
        #expect(only4.exhausted == 1)
    }

    @Test func releasesAndStatistics() {
        var pool = LocalAddressPool(
            addresses: [Self.a, Self.b, Self.a], range: 3000...3003, worker: 0, workerCount: 1)
        #expect(pool.addresses == [Self.a, Self.b], "duplicate LIPs are dropped")
        let x = pool.allocate()!
        let y = pool.allocate()!
        pool.release(address: x.address, port: x.port)
        pool.release(address: x.address, port: x.port)  // double
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
