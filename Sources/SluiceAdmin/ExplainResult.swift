// What the data plane would do with a new flow (katran's simulator): the real server and local
// address it would get, or the live connection that already owns the tuple.

/// The answer to `explain`.
public struct ExplainResult: Codable, Sendable, Equatable {
    /// The virtual server the flow is for; nil when the destination is no virtual server.
    public var service: String?
    /// The live connection for this tuple, if one exists.
    public var connection: ConnectionEntry?
    /// Where a new flow would go now (nil with `reason` when it would be dropped).
    public var server: String?
    public var serverPort: UInt16?
    public var local: String?
    public var localPort: UInt16?
    /// Why a new flow would be dropped (`no_service`, `no_real_server`, `local_ports_exhausted`).
    public var reason: String?
    /// What chose the server: `persistence template (expires in N s)` or `scheduler KIND`.
    public var rule: String?

    public init(
        service: String? = nil, connection: ConnectionEntry? = nil, server: String? = nil, serverPort: UInt16? = nil,
        local: String? = nil, localPort: UInt16? = nil, reason: String? = nil, rule: String? = nil
    ) {
        self.rule = rule
        self.service = service
        self.connection = connection
        self.server = server
        self.serverPort = serverPort
        self.local = local
        self.localPort = localPort
        self.reason = reason
    }
}
