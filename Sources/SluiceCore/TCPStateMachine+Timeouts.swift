// The two things a state is for: the idle timeout it allows (docs/protocol.md §5, TimeoutTable) and,
// for UDP, the ONEWAY → NORMAL step on the first reply (dpvs ip_vs_proto_udp.c).

extension TCPStateMachine {
    /// Idle timeout of `state` in milliseconds. `established`, when given (a service's
    /// `establish_timeout`, pitfall 22), replaces the ESTABLISHED and UDP NORMAL entries.
    @inlinable
    public static func timeoutMilliseconds(
        _ state: ConnectionState, timeouts: borrowing TimeoutTable, established: UInt64? = nil
    ) -> UInt64 {
        if let established, state == .established || state == .udpNormal { return established }
        return UInt64(timeouts[state]) &* 1000
    }

    /// The UDP pseudo-state after a datagram in `direction`: a reply (outbound) turns ONEWAY into
    /// NORMAL; anything else keeps the state.
    @inlinable
    public static func nextUDP(_ state: ConnectionState, direction: FlowDirection) -> ConnectionState {
        state == .udpOneway && direction == .outbound ? .udpNormal : state
    }
}
