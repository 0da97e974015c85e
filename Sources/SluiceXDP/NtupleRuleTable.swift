// The reply-steering rules Sluice keeps on the interface real servers answer through, when
// `dataplane.ntuple_rules` is on (NtupleRule.swift says what they match). It remembers where each rule
// went, so it can follow a reload's new or removed local addresses by difference and take exactly its
// own rules away at stop, leaving an operator's other rules alone.
//
// All or nothing at start: when the device refuses a rule, the ones this call installed are removed
// again and the error goes to the caller, which refuses to start (the operator asked for the rules; a
// gateway silently running without them would hand every reply over). On a reload the same rollback
// keeps the previous set.

import SluicePacket

/// The reply-steering rules installed on one interface.
public struct NtupleRuleTable<Driver: NtupleDriver>: Sendable {
    /// Every installed rule and its location.
    public private(set) var installed: [NtupleRule: UInt32] = [:]
    /// Workers whose queues the rules name (a power of two, at least 2).
    public let workers: Int
    private var driver: Driver

    public init(driver: Driver, workers: Int) {
        precondition(workers >= 2 && NtupleRule.canSteer(workers: workers))
        self.driver = driver
        self.workers = workers
    }

    /// The interface the rules are on.
    public var interfaceName: String { driver.interfaceName }

    /// Installs the rules for `localAddresses` that are missing, then removes those of addresses no
    /// longer listed.
    /// - Throws: the device's refusal of a rule; the rules this call had installed are removed first.
    public mutating func apply(localAddresses: Set<IPAddress>) throws(XDPError) {
        let wanted = NtupleRule.replySteering(localAddresses: localAddresses, workers: workers)
        var added: [NtupleRule] = []
        for rule in wanted where installed[rule] == nil {
            do throws(XDPError) {
                installed[rule] = try driver.insert(rule)
                added.append(rule)
            } catch {
                for rule in added.reversed() {
                    if let location = installed.removeValue(forKey: rule) { try? driver.delete(location: location) }
                }
                throw error
            }
        }
        let keep = Set(wanted)
        for (rule, location) in installed where !keep.contains(rule) {
            // A rule that cannot be removed now stays listed, so that stop tries again.
            if (try? driver.delete(location: location)) != nil { installed[rule] = nil }
        }
    }

    /// Removes every installed rule.
    /// - Returns: the removals that failed (their rules stay listed).
    public mutating func removeAll() -> [XDPError] {
        var failures: [XDPError] = []
        for (rule, location) in installed.sorted(by: { $0.value < $1.value }) {
            do throws(XDPError) {
                try driver.delete(location: location)
                installed[rule] = nil
            } catch {
                failures.append(error)
            }
        }
        return failures
    }
}
