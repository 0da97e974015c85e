// Per-state idle timeouts (seconds). Defaults are dpvs's (docs/protocol.md §5): ESTABLISHED 90 s rather
// than IPVS's 900 s because a gateway that holds dead entries for 15 min exhausts LIP ports; the
// per-service `establish_timeout` raises it where idle pools need it (pitfall 22).

/// Idle timeout for each connection state, in seconds.
public struct TimeoutTable: Sendable, Hashable {
    public var seconds: [UInt32]

    public init(seconds: [UInt32]) {
        precondition(seconds.count == ConnectionState.allCases.count)
        self.seconds = seconds
    }

    @inlinable
    public subscript(state: ConnectionState) -> UInt32 {
        get { seconds[Int(state.rawValue)] }
        set { seconds[Int(state.rawValue)] = newValue }
    }

    /// dpvs / alibaba LVS defaults, but for UDP flows that were never answered (`udpOneway`).
    public static let dpvsDefaults: TimeoutTable = {
        var t = TimeoutTable(seconds: Array(repeating: 0, count: ConnectionState.allCases.count))
        t[.none] = 2
        t[.established] = 90
        t[.synSent] = 3
        t[.synRecv] = 30
        t[.finWait] = 7
        t[.timeWait] = 7
        t[.close] = 3
        t[.closeWait] = 7
        t[.lastAck] = 7
        t[.listen] = 120
        t[.synAck] = 30
        // A flow its server never answered: 30 s, not dpvs's 300, so that spoofed datagrams (one LIP
        // port each) cannot hold the ports of legitimate flows for five minutes.
        t[.udpOneway] = 30
        t[.udpNormal] = 300
        return t
    }()
}
