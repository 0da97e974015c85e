// Local-port slices: ownership by port % workers, disjoint slices covering the range, candidates in
// cursor order (a port comes up again only after the whole slice), and bad releases counted.

import SluiceCore
import Testing

@Suite struct PortPoolTests {
    /// Every candidate of a fresh pool, in order.
    func candidates(_ pool: PortPool) -> [UInt16] {
        (0..<pool.capacity).compactMap { pool.candidate($0) }
    }

    @Test(arguments: [1, 2, 3, 4, 7, 16])
    func slicesAreDisjointAndCoverTheRange(workers: Int) {
        let range: ClosedRange<UInt16> = 1025...65535
        var owners = Array(repeating: -1, count: 65536)
        var total = 0
        var wrongOwner = 0
        var duplicates = 0
        for k in 0..<workers {
            let pool = PortPool(range: range, worker: k, workerCount: workers)
            #expect(pool.free == pool.capacity)
            total += pool.capacity
            for port in candidates(pool) {
                if !range.contains(port) || PortPool.owner(ofPort: port, workerCount: workers) != k { wrongOwner += 1 }
                if !pool.contains(port) { wrongOwner += 1 }
                if owners[Int(port)] >= 0 { duplicates += 1 }
                owners[Int(port)] = k
            }
        }
        #expect(wrongOwner == 0)
        #expect(duplicates == 0, "a port in two slices")
        #expect(total == range.count)
        #expect(owners[Int(range.lowerBound)...].allSatisfy { $0 >= 0 }, "every port of the range is in a slice")
        #expect(owners[..<Int(range.lowerBound)].allSatisfy { $0 < 0 })
    }

    @Test func sliceOfASmallRange() {
        // 10...20 over 4 workers: worker 1 owns 13 and 17 (p % 4 == 1), worker 2 owns 10, 14, 18.
        let w1 = PortPool(range: 10...20, worker: 1, workerCount: 4)
        #expect(w1.capacity == 2)
        #expect(candidates(w1) == [13, 17])
        #expect(w1.candidate(2) == 13, "candidates wrap around the slice")
        let w2 = PortPool(range: 10...20, worker: 2, workerCount: 4)
        #expect(candidates(w2) == [10, 14, 18])
        // More workers than ports: some slices are empty and propose nothing.
        var empty = PortPool(range: 100...101, worker: 6, workerCount: 8)
        #expect(empty.capacity == 0)
        #expect(empty.candidate(0) == nil)
        empty.release(100)
        #expect(empty.ignoredReleases == 1)
    }

    @Test func aTakenPortComesUpAgainOnlyAfterTheWholeSlice() {
        var pool = PortPool(range: 2000...2009, worker: 0, workerCount: 2)  // 2000, 2002, …, 2008
        #expect(pool.candidate(0) == 2000)
        pool.take(0)
        #expect(pool.candidate(0) == 2002)
        // Taking the third candidate (2006) moves the cursor past it, to 2008: the two skipped ports
        // come up again only after the wrap.
        pool.take(2)
        #expect(pool.candidate(0) == 2008)
        #expect(pool.inUse == 2)
        pool.release(2000)
        pool.release(2006)
        #expect(pool.inUse == 0)
        // Wherever the cursor is, the next `capacity` candidates are each port once.
        #expect(Set((0..<pool.capacity).compactMap { pool.candidate($0) }).count == pool.capacity)
        var order: [UInt16] = []
        for _ in 0..<pool.capacity {
            order.append(pool.candidate(0)!)
            pool.take(0)
        }
        #expect(order == [2008, 2000, 2002, 2004, 2006])
        #expect(pool.candidate(0) == 2008, "the port taken longest ago comes next")
        pool.skip(3)
        #expect(pool.candidate(0) == 2004)
    }

    @Test func badReleasesAreCountedAndIgnored() {
        var pool = PortPool(range: 3000...3009, worker: 1, workerCount: 2)  // odd ports
        let p = pool.candidate(0)!
        pool.take(0)
        pool.release(p)
        pool.release(p)  // more releases than takes
        pool.release(3002)  // another worker's port
        pool.release(4001)  // outside the range
        #expect(pool.ignoredReleases == 3)
        #expect(pool.inUse == 0)
        #expect(pool.free == pool.capacity)
        #expect(pool.contains(3001))
        #expect(!pool.contains(3002))
    }
}
