// What runs a check. The health checker only sees this protocol, so its scheduling and state
// machine are tested with a scripted probe and a manual clock; `SystemProbe` is the real one.

import SluicePacket

/// One real server to check, as the checker hands it to a probe.
public struct CheckTarget: Sendable, Hashable {
    /// The virtual server's name.
    public var service: String
    public var address: IPAddress
    /// The port probed (the check's `port`, else the real server's).
    public var port: UInt16
    public var check: HealthCheck

    public init(service: String, address: IPAddress, port: UInt16, check: HealthCheck) {
        self.service = service
        self.address = address
        self.port = port
        self.check = check
    }
}

/// Runs one check and reports its outcome; never throws, never outlives `check.timeoutMilliseconds`
/// by more than the time it takes to give up.
public protocol HealthProbe: Sendable {
    func check(_ target: CheckTarget) async -> CheckResult
}
