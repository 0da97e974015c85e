// A real server's health as the admin API reports it.

/// The health checker's view of one real server.
public struct CheckState: Codable, Sendable, Equatable {
    /// `up`, `down`, or `static` (no checks: always up).
    public var state: String
    /// tcp | http | exec | none.
    public var type: String
    /// HAProxy's code of the last check (`L4OK`, `L4CON`, ...), `UNK` before the first.
    public var status: String
    public var durationMilliseconds: Int?
    public var detail: String?
    public var checks: UInt64
    public var failures: UInt64

    public init(
        state: String, type: String, status: String, durationMilliseconds: Int? = nil, detail: String? = nil,
        checks: UInt64 = 0, failures: UInt64 = 0
    ) {
        self.state = state
        self.type = type
        self.status = status
        self.durationMilliseconds = durationMilliseconds
        self.detail = detail
        self.checks = checks
        self.failures = failures
    }
}
