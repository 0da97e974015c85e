// The CPUs the process may use, as workers are placed by default: what the kernel's affinity mask says,
// in order, and a thread pinned to one CPU (as a worker is) reports that one.

import Foundation
import Synchronization
import Testing

@testable import SluiceXDP

@Suite struct CPUAffinityTests {
    @Test func reportsTheAffinityMaskInOrder() {
        let cpus = CPUAffinity.allowedCPUs()
        #expect(!cpus.isEmpty)
        #expect(cpus == cpus.sorted() && Set(cpus).count == cpus.count)
        #expect(cpus.count <= ProcessInfo.processInfo.processorCount)
        #expect(cpus.allSatisfy { $0 >= 0 && $0 < CPUAffinity.maximumCPUs })
    }

    @Test func aPinnedThreadReportsItsOneCPU() throws {
        let last = try #require(CPUAffinity.allowedCPUs().last)
        let seen = Mutex<[Int]>([])
        let thread = try PinnedThread(name: "affinity-test", cpu: last) {
            let cpus = CPUAffinity.allowedCPUs()
            seen.withLock { $0 = cpus }
        }
        thread.join()
        #expect(seen.withLock { $0 } == [last])
    }
}
