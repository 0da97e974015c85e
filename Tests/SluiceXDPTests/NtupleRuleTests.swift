// Reply-steering ntuple rules: which rules a set of local addresses and workers needs (every local port
// matched by exactly one rule, naming its owner's queue), how the table follows changes and rolls back a
// refused install (a fake driver), and the real ioctls' refusal on a device without classification rules
// (loopback: GRXCLSRLCNT answers EOPNOTSUPP there, which needs no privilege).

import CXDP
import SluiceCore
import SluicePacket
import Testing

@testable import SluiceXDP

/// A rule table in memory that refuses the insert numbered `failInsert` (1-based, counting all calls)
/// and every delete of a location in `failDeletes`.
struct FakeNtupleDriver: NtupleDriver {
    let interfaceName = "fake0"
    var rules: [UInt32: NtupleRule] = [:]
    var inserts = 0
    var failInsert = 0
    var failDeletes: Set<UInt32> = []
    var nextLocation: UInt32 = 100

    mutating func insert(_ rule: NtupleRule) throws(XDPError) -> UInt32 {
        inserts += 1
        if inserts == failInsert {
            throw XDPError(operation: "insert ntuple rule", subject: interfaceName, code: ENOSPC)
        }
        nextLocation += 1
        rules[nextLocation] = rule
        return nextLocation
    }

    mutating func delete(location: UInt32) throws(XDPError) {
        if failDeletes.contains(location) {
            throw XDPError(operation: "delete ntuple rule", subject: interfaceName, code: EIO)
        }
        guard rules.removeValue(forKey: location) != nil else {
            throw XDPError(operation: "delete ntuple rule", subject: interfaceName, code: ENOENT)
        }
    }
}

@Suite struct NtupleRuleTests {
    let lip4 = IPAddress(v4: 0x0AD2_0264)  // 10.210.2.100
    let lip6 = IPAddress(v6High: 0xFD00_0000_0000_0002, low: 0x100)

    @Test(arguments: [2, 4, 8])
    func everyLocalPortMatchesExactlyOneRuleNamingItsOwner(workers: Int) {
        let rules = NtupleRule.replySteering(localAddresses: [lip4, lip6], workers: workers)
        #expect(rules.count == 2 * 2 * workers)
        for address in [lip4, lip6] {
            for transport in TransportProtocol.allCases {
                let mine = rules.filter { $0.destination == address && $0.transport == transport }
                for port in UInt16(1025)...UInt16(1025 + 300) {
                    let matching = mine.filter { port & $0.portMask == $0.port }
                    #expect(matching.count == 1)
                    #expect(
                        matching.first.map { Int($0.queue) }
                            == PortPool.owner(ofPort: port, workerCount: workers))
                }
            }
        }
    }

    @Test func onlyPowersOfTwoCanBeSteered() {
        #expect(NtupleRule.canSteer(workers: 1) && NtupleRule.canSteer(workers: 2) && NtupleRule.canSteer(workers: 64))
        #expect(
            !NtupleRule.canSteer(workers: 3) && !NtupleRule.canSteer(workers: 6) && !NtupleRule.canSteer(workers: 0))
        #expect(NtupleRule.workerAdvice(workers: 3).hasPrefix("use 2 or 4 workers"))
        #expect(NtupleRule.workerAdvice(workers: 12).hasPrefix("use 8 or 16 workers"))
    }

    @Test func describesItselfAsEthtoolWouldBeTold() {
        let rule = NtupleRule(destination: lip4, transport: .udp, port: 1, portMask: 3, queue: 1)
        #expect(rule.description == "flow-type udp4 dst-ip 10.210.2.100 dst-port 1 m 0xfffc action 1")
    }

    @Test func followsAddedAndRemovedAddressesByDifference() throws {
        var table = NtupleRuleTable(driver: FakeNtupleDriver(), workers: 2)
        try table.apply(localAddresses: [lip4])
        #expect(table.installed.count == 4)
        // Adding the v6 address installs its 4 rules and touches none of the others.
        let before = table.installed
        try table.apply(localAddresses: [lip4, lip6])
        #expect(table.installed.count == 8)
        for (rule, location) in before { #expect(table.installed[rule] == location) }
        // Removing the v4 address deletes exactly its rules.
        try table.apply(localAddresses: [lip6])
        #expect(table.installed.count == 4)
        #expect(table.installed.keys.allSatisfy { $0.destination == lip6 })
        #expect(table.removeAll().isEmpty)
        #expect(table.installed.isEmpty)
    }

    @Test func aRefusedRuleTakesBackTheOnesThisCallInstalled() {
        var driver = FakeNtupleDriver()
        driver.failInsert = 6  // the 2nd rule of the second address
        var table = NtupleRuleTable(driver: driver, workers: 2)
        #expect(throws: XDPError.self) { try table.apply(localAddresses: [lip4, lip6]) }
        #expect(table.installed.isEmpty)
    }

    @Test func aRefusedRuleOnReloadKeepsThePreviousSet() throws {
        var driver = FakeNtupleDriver()
        driver.failInsert = 5  // the first rule of the address added by the reload
        var table = NtupleRuleTable(driver: driver, workers: 2)
        try table.apply(localAddresses: [lip4])
        let before = table.installed
        #expect(throws: XDPError.self) { try table.apply(localAddresses: [lip4, lip6]) }
        #expect(table.installed == before)
    }

    @Test func aRuleThatCannotBeRemovedStaysListedForTheNextTry() throws {
        var driver = FakeNtupleDriver()
        driver.failDeletes = [101]
        var table = NtupleRuleTable(driver: driver, workers: 2)
        try table.apply(localAddresses: [lip4])
        let failures = table.removeAll()
        #expect(failures.count == 1)
        #expect(table.installed.count == 1 && table.installed.values.first == 101)
    }

    @Test func aDeviceWithoutRulesRefusesWithTheWayOut() {
        var driver = EthtoolNtupleDriver(interfaceName: "lo")
        let rule = NtupleRule(destination: lip4, transport: .tcp, port: 0, portMask: 1, queue: 0)
        do {
            _ = try driver.insert(rule)
            Issue.record("loopback accepted an ntuple rule")
        } catch {
            #expect(error.code == EOPNOTSUPP)
            #expect(error.description.contains("ntuple_rules: false"))
            #expect(error.description.contains("on lo"))
        }
    }
}
