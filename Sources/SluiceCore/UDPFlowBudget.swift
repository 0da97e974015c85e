// Budgets of new UDP flows, one worker's (docs/protocol.md §4 "UDP budgets").
//
// A UDP flow is created by any datagram, spoofed or not, and holds a table entry until it expires
// (udp_oneway: 30 s when its server never answered). Three budgets keep a flood from taking what
// other traffic needs:
// - all UDP flows together hold at most `tableShareDivisor`⁻¹ of the connection table, so TCP keeps
//   the rest;
// - each virtual server's flows at most `serviceLimit`, so a flood at one service leaves room for
//   the others;
// - each client address's flows at most `sourceLimit`, so one source (or a few) cannot fill its
//   service's budget. Sources are counted in `sourceBucketCount` buckets chosen by a keyed hash: no
//   per-address state to allocate, and an attacker cannot aim at another address's bucket. Two
//   addresses sharing a bucket share its budget, which is why the default is generous.
// A refusal is counted (`drop_udp_flow_limit`, `drop_udp_source_flow_limit`), logged as a defence
// episode by the control plane, and costs the legitimate flows nothing they already have.

import SluicePacket

/// Counts of one worker's UDP flows against their limits.
public struct UDPFlowBudget: Sendable {
    /// UDP flows may hold 1 / this of the connection table.
    public static let tableShareDivisor = 2
    /// A virtual server's flows may hold 1 / this of the table unless configured otherwise.
    public static let defaultServiceShareDivisor = 4
    /// Flows one client address may hold per worker unless configured otherwise.
    public static let defaultSourceLimit = 1024
    /// Buckets counting flows by source address: 32 KiB per worker.
    public static let sourceBucketCount = 16384

    public let tableLimit: Int
    public let serviceLimit: Int
    /// 0: no per-source limit.
    public let sourceLimit: Int
    @usableFromInline let hashKey: (UInt64, UInt64)
    @usableFromInline var total = 0
    @usableFromInline var perService: [Int]
    @usableFromInline var perSource: [UInt16]

    /// - Parameters:
    ///   - serviceLimit: flows per virtual server; 0 takes the default share of `tableCapacity`.
    ///   - sourceLimit: flows per client address; 0 turns the limit off.
    public init(tableCapacity: Int, serviceLimit: Int, sourceLimit: Int, services: Int, hashKey: (UInt64, UInt64)) {
        self.tableLimit = tableCapacity / Self.tableShareDivisor
        self.serviceLimit = serviceLimit > 0 ? serviceLimit : tableCapacity / Self.defaultServiceShareDivisor
        // A bucket counts in 16 bits; a larger limit is no limit a bucket could reach.
        self.sourceLimit = min(sourceLimit, Int(UInt16.max))
        self.hashKey = hashKey
        self.perService = Array(repeating: 0, count: services)
        self.perSource = Array(repeating: 0, count: sourceLimit > 0 ? Self.sourceBucketCount : 0)
    }

    /// UDP flows in all.
    public var flows: Int { total }

    /// Flows of virtual server `service` (0 for an index out of range).
    public func flows(service: Int) -> Int {
        service < perService.count ? perService[service] : 0
    }

    /// Flows counted in `source`'s bucket.
    public func flows(source: IPAddress) -> Int {
        perSource.isEmpty ? 0 : Int(perSource[bucket(source)])
    }

    @inlinable
    func bucket(_ source: IPAddress) -> Int {
        let h = SipHash24.hash(k0: hashKey.0, k1: hashKey.1, source.high, source.low)
        return Int(truncatingIfNeeded: h & UInt64(Self.sourceBucketCount - 1))
    }

    /// Why a new flow of `service` from `source` is refused, or nil when the budgets allow it.
    @inlinable
    public func refusal(service: Int, source: IPAddress) -> DropReason? {
        if total >= tableLimit || (service < perService.count && perService[service] >= serviceLimit) {
            return .udpFlowLimit
        }
        if sourceLimit > 0 && Int(perSource[bucket(source)]) >= sourceLimit { return .udpSourceFlowLimit }
        return nil
    }

    /// Counts a flow that opened.
    @inlinable
    public mutating func opened(service: Int, source: IPAddress) {
        total &+= 1
        if service < perService.count { perService[service] &+= 1 }
        if !perSource.isEmpty {
            let b = bucket(source)
            if perSource[b] < UInt16.max { perSource[b] &+= 1 }
        }
    }

    /// Counts a flow that is gone. Counts never go below zero, whatever the caller gets wrong.
    @inlinable
    public mutating func closed(service: Int, source: IPAddress) {
        if total > 0 { total -= 1 }
        if service < perService.count && perService[service] > 0 { perService[service] -= 1 }
        if !perSource.isEmpty {
            let b = bucket(source)
            if perSource[b] > 0 { perSource[b] -= 1 }
        }
    }
}
