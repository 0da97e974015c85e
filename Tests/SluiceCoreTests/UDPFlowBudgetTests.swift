// UDP flow budgets on their own: the three limits and which refusal each gives, counts that never go
// below zero, the per-source limit off at 0, and a keyed bucket hash (another key, other buckets).

import SluiceCore
import SluicePacket
import Testing

@Suite struct UDPFlowBudgetTests {
    static let key: (UInt64, UInt64) = (1, 2)

    @Test func eachLimitRefusesWithItsReason() {
        var budget = UDPFlowBudget(tableCapacity: 100, serviceLimit: 10, sourceLimit: 3, services: 2, hashKey: Self.key)
        #expect(budget.tableLimit == 50)
        let one = IPAddress(v4: 0x0B00_0001)
        for _ in 0..<3 { budget.opened(service: 0, source: one) }
        #expect(budget.refusal(service: 0, source: one) == .udpSourceFlowLimit)
        #expect(budget.flows(source: one) == 3)
        // Other sources fill the service's budget.
        var n: UInt32 = 2
        while budget.flows(service: 0) < 10 {
            let source = IPAddress(v4: 0x0B00_0000 + n)
            if budget.refusal(service: 0, source: source) == nil { budget.opened(service: 0, source: source) }
            n += 1
        }
        #expect(budget.refusal(service: 0, source: IPAddress(v4: 0x0C00_0001)) == .udpFlowLimit)
        #expect(budget.refusal(service: 1, source: IPAddress(v4: 0x0C00_0001)) == nil, "the other service has room")
        // The table's share stops every service.
        var m: UInt32 = 0
        while budget.flows < 50 {
            budget.opened(service: 1, source: IPAddress(v6High: 0x2001_0db8_0000_0000, low: UInt64(m)))
            m += 1
        }
        #expect(budget.refusal(service: 1, source: IPAddress(v4: 0x0C00_0002)) == .udpFlowLimit)
    }

    @Test func countsNeverGoBelowZeroAndZeroTurnsTheSourceLimitOff() {
        var budget = UDPFlowBudget(tableCapacity: 16, serviceLimit: 0, sourceLimit: 0, services: 1, hashKey: Self.key)
        #expect(budget.serviceLimit == 4, "0 takes a quarter of the table")
        let one = IPAddress(v4: 7)
        budget.closed(service: 0, source: one)
        budget.closed(service: 5, source: one)
        #expect(budget.flows == 0 && budget.flows(service: 0) == 0 && budget.flows(source: one) == 0)
        for _ in 0..<4 { budget.opened(service: 0, source: one) }
        #expect(budget.refusal(service: 0, source: one) == .udpFlowLimit, "the service's limit, no source limit")
        budget.opened(service: 9, source: one)  // an index past the services counts only in the total
        #expect(budget.flows == 5)
    }

    @Test func bucketsDependOnTheKey() {
        // The addresses that share a bucket with one address differ from key to key, so an attacker who
        // knows a victim's address cannot pick addresses that exhaust the victim's bucket.
        func sharingWithFirst(key: (UInt64, UInt64)) -> Set<UInt32> {
            var budget = UDPFlowBudget(
                tableCapacity: 1 << 20, serviceLimit: 0, sourceLimit: 1, services: 1, hashKey: key)
            budget.opened(service: 0, source: IPAddress(v4: 0x0B00_0000))
            return Set((1..<UInt32(100_000)).filter { budget.flows(source: IPAddress(v4: 0x0B00_0000 + $0)) > 0 })
        }
        let a = sharingWithFirst(key: (1, 2))
        let b = sharingWithFirst(key: (3, 4))
        // 100 000 addresses over 16 384 buckets: about 6 share each one.
        #expect((1...20).contains(a.count) && (1...20).contains(b.count))
        #expect(a != b)
    }
}
