// The outcome of one check, with HAProxy's check status codes (its configuration manual, "check
// status"), because operators already read them in HAProxy's logs and exporter.

/// HAProxy's code for a check's outcome.
public enum CheckStatus: String, Sendable, Hashable, CaseIterable {
    /// Not checked yet.
    case unknown = "UNK"
    /// A socket could not be created or bound (for example a bad source address).
    case socketError = "SOCKERR"
    /// Layer 4 connection established.
    case l4OK = "L4OK"
    /// Layer 4 connection timed out.
    case l4Timeout = "L4TOUT"
    /// Layer 4 connection refused or unreachable.
    case l4Connection = "L4CON"
    /// Layer 7 answer with an expected status.
    case l7OK = "L7OK"
    /// Layer 7 answer with an unexpected status.
    case l7Status = "L7STS"
    /// Layer 7 answer did not arrive in time.
    case l7Timeout = "L7TOUT"
    /// Layer 7 answer that is not valid HTTP.
    case l7Response = "L7RSP"
    /// The check command exited 0.
    case processOK = "PROCOK"
    /// The check command exited non-zero or could not start.
    case processError = "PROCERR"
    /// The check command did not finish in time.
    case processTimeout = "PROCTOUT"

    /// True for the codes that count as a success.
    public var isSuccess: Bool { self == .l4OK || self == .l7OK || self == .processOK }
}

/// One check's outcome and what it took.
public struct CheckResult: Sendable, Hashable {
    public var status: CheckStatus
    public var durationMilliseconds: Int
    /// A short human-readable detail (`HTTP 503`, `exit 2`, `connection refused`).
    public var detail: String

    public init(status: CheckStatus, durationMilliseconds: Int, detail: String = "") {
        self.status = status
        self.durationMilliseconds = durationMilliseconds
        self.detail = detail
    }
}
