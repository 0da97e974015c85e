// A virtual server's `health_check:` (or a real server's override of it), in keepalived's and HAProxy's
// terms: what to probe, how often, and how many results in a row change a server's state. HAProxy's
// defaults (inter 2 s, rise 2, fall 3) with a 1 s timeout, as GLB and most operators use.

import SluicePacket

/// How a real server's health is checked.
public struct HealthCheck: Sendable, Hashable {
    /// The kind of probe.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// A TCP connection that completes its handshake.
        case tcp
        /// An HTTP/1.1 GET whose status is in `expectStatus`.
        case http
        /// A command whose exit status is 0.
        case exec
        /// No checks: the server is always up (static).
        case none
    }

    /// `http:` settings.
    public struct HTTP: Sendable, Hashable {
        public var path: String = "/"
        /// Accepted status codes as inclusive ranges (`"200-299"`, `"204"`).
        public var expectStatus: [ClosedRange<Int>] = [200...299]
        /// The Host header; the server's address when nil.
        public var host: String?

        public init(path: String = "/", expectStatus: [ClosedRange<Int>] = [200...299], host: String? = nil) {
            self.path = path
            self.expectStatus = expectStatus
            self.host = host
        }
    }

    public static let defaultIntervalMilliseconds = 2000
    public static let defaultTimeoutMilliseconds = 1000
    public static let defaultRise = 2
    public static let defaultFall = 3

    public var kind: Kind = .none
    public var intervalMilliseconds = HealthCheck.defaultIntervalMilliseconds
    public var timeoutMilliseconds = HealthCheck.defaultTimeoutMilliseconds
    /// Consecutive successes that bring a down server up.
    public var rise = HealthCheck.defaultRise
    /// Consecutive failures that take an up server down.
    public var fall = HealthCheck.defaultFall
    /// The port to probe; the real server's port when nil.
    public var port: UInt16?
    /// The address checks are sent from; the kernel's choice (the route's source) when nil.
    public var source: IPAddress?
    public var http = HTTP()
    /// `exec:` the command and its arguments; the server's address and port are in the environment
    /// (`SLUICE_RS_ADDRESS`, `SLUICE_RS_PORT`, `SLUICE_VS`).
    public var command: [String] = []

    public init() {}

    /// True when the server's state comes from checks rather than from the file alone.
    public var isActive: Bool { kind != .none }
}
