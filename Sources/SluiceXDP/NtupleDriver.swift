// What `NtupleRuleTable` needs of a device's receive classification rules. `EthtoolNtupleDriver` is the
// real one (the ethtool ioctls); the unit tests use a fake that can refuse any rule.

/// Installs and removes receive classification rules on one interface.
public protocol NtupleDriver: Sendable {
    /// The interface the rules are on, for messages.
    var interfaceName: String { get }
    /// Installs `rule` and returns its location in the device's rule table.
    mutating func insert(_ rule: NtupleRule) throws(XDPError) -> UInt32
    /// Removes the rule at `location`.
    mutating func delete(location: UInt32) throws(XDPError)
}
