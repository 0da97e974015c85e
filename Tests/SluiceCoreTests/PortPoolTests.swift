// Local-port slices: ownership by port % workers, disjoint slices covering the range, FIFO reuse,
// exhaustion, and double or foreign releases counted instead of trapping.

import SluiceCore
import Testing

@Suite struct PortPoolTests {
    @Test(arguments: [1, 2, 3, 4, 7, 16])
    func slicesAreDisjointAndCoverTheRange(workers: Int) {
        let range: ClosedRange<UInt16> = 1025...65535
        var owners = Array(repeating: -1, count: 65536)
        var total = 0
        var wrongOwner = 0
        var duplicates = 0
        for k in 0..<workers {
            var pool = PortPool(range: range, worker: k, workerCount: workers)
            #expect(pool.free == pool.capacity)
            total += pool.capacity
            while let port = pool.allocate() {
                if !range.contains(port) || PortPool.owner(ofPort: port, workerCount: workers) != k { wrongOwner += 1 }
                if owners[Int(port)] >= 0 { duplicates += 1 }
                owners[Int(port)] = k
            }
            #expect(pool.free == 0)
            #expect(pool.inUse == pool.capacity)
        }
        #expect(wrongOwner == 0)
        #expect(duplicates == 0, "a port in two slices")
        #expect(total == range.count)
        #expect(owners[Int(range.lowerBound)...].allSatisfy { $0 >= 0 }, "every port of the range is in a slice")
        #expect(owners[..<Int(range.lowerBound)].allSatisfy { $0 < 0 })
    }

    @Test func sliceOfASmallRange() {
        // 10...20 over 4 workers: worker 1 owns 13 and 17 (p % 4 == 1), worker 2 owns 10, 14, 18.
        var w1 = PortPool(range: 10...20, worker: 1, workerCount: 4)
        #expect(w1.capacity == 2)
        #expect(w1.allocate() == 13)
        #expect(w1.allocate() == 17)
        #expect(w1.allocate() == nil)
        var w2 = PortPool(range: 10...20, worker: 2, workerCount: 4)
        #expect(w2.capacity == 3)
        #expect(w2.allocate() == 10)
        // More workers than ports: some slices are empty and simply never allocate.
        var empty = PortPool(range: 100...101, worker: 6, workerCount: 8)
        #expect(empty.capacity == 0)
        #expect(empty.allocate() == nil)
        empty.release(100)
        #expect(empty.ignoredReleases == 1)
    }

    @Test func exhaustionAndFifoReuse() {
        var pool = PortPool(range: 2000...2009, worker: 0, workerCount: 2)  // 2000, 2002, …, 2008
        var taken: [UInt16] = []
        while let p = pool.allocate() { taken.append(p) }
        #expect(taken == [2000, 2002, 2004, 2006, 2008])
        #expect(pool.allocate() == nil)
        // Released ports come back in release order: the longest-idle port is reused first.
        pool.release(2004)
        pool.release(2000)
        pool.release(2008)
        #expect(pool.free == 3)
        #expect(pool.inUse == 2)
        #expect(pool.allocate() == 2004)
        pool.release(2002)
        #expect(pool.allocate() == 2000)
        #expect(pool.allocate() == 2008)
        #expect(pool.allocate() == 2002)
        #expect(pool.allocate() == nil)
    }

    @Test func freshPoolHandsOutEveryPortBeforeReusingOne() {
        var pool = PortPool(range: 5000...5099, worker: 1, workerCount: 4)
        let first = pool.allocate()!
        pool.release(first)
        var order: [UInt16] = []
        while let p = pool.allocate() { order.append(p) }
        #expect(order.count == pool.capacity)
        #expect(order.last == first, "a just-released port goes to the back of the queue")
    }

    @Test func badReleasesAreCountedAndIgnored() {
        var pool = PortPool(range: 3000...3009, worker: 1, workerCount: 2)  // odd ports
        let p = pool.allocate()!
        pool.release(p)
        pool.release(p)  // double release
        pool.release(3002)  // another worker's port
        pool.release(4001)  // outside the range
        pool.release(3003)  // ours, but never allocated
        #expect(pool.ignoredReleases == 4)
        #expect(pool.free == pool.capacity)
        // The ring holds each port once: allocating everything yields no duplicates.
        var all: [UInt16] = []
        while let q = pool.allocate() { all.append(q) }
        #expect(all.count == 5)
        #expect(Set(all).count == 5)
        #expect(pool.isAllocated(3001))
        #expect(!pool.isAllocated(3002))
    }
}
