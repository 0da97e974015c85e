// The connection state a gateway infers from the TCP flags it forwards. It is the IPVS/dpvs table
// (dpvs src/ipvs/ip_vs_proto_tcp.c `tcp_states`, same as Linux net/netfilter/ipvs/ip_vs_proto_tcp.c
// except INPUT ACK from NONE, which dpvs sends to CLOSE and mainline to ESTABLISHED), kept as a
// table rather than code (docs/design.md §4.5, docs/protocol.md §5): the state only picks a timeout and
// the wlc active/inactive split, so being exactly as forgiving as IPVS matters more than modelling
// RFC 793 per side.
//
// Rows are indexed by direction and event; the event is the first of RST > SYN > FIN > ACK present
// in the flags (a SYN-ACK is a SYN event). A segment with none of them changes nothing.
// INPUT = client → real server, OUTPUT = real server → client. IPVS's INPUT-ONLY rows (direct
// routing, where replies bypass the balancer) do not apply to FULLNAT.
//
//   INPUT    sNO  sES  sSS  sSR  sFW  sTW  sCL  sCW  sLA  sLI  sSA
//   syn      sSR  sES  sES  sSR  sSR  sSR  sSR  sSR  sSR  sSR  sSR
//   fin      sCL  sCW  sSS  sTW  sTW  sTW  sCL  sCW  sLA  sLI  sTW
//   ack      sCL  sES  sSS  sES  sFW  sTW  sCL  sCW  sCL  sLI  sES
//   rst      sCL  sCL  sCL  sSR  sCL  sCL  sCL  sCL  sLA  sLI  sSR
//   OUTPUT
//   syn      sSS  sES  sSS  sSR  sSS  sSS  sSS  sSS  sSS  sLI  sSR
//   fin      sTW  sFW  sSS  sTW  sFW  sTW  sCL  sTW  sLA  sLI  sTW
//   ack      sES  sES  sSS  sES  sFW  sTW  sCL  sCW  sLA  sES  sES
//   rst      sCL  sCL  sSS  sCL  sCL  sTW  sCL  sCL  sCL  sCL  sCL
//
// A plain FULLNAT handshake therefore goes NONE →(client SYN) SYN_RECV →(RS SYN-ACK, an OUTPUT SYN)
// SYN_RECV →(client ACK) ESTABLISHED. SYNPROXY connections are created in SYN_SENT and moved to
// ESTABLISHED by the proxy itself when the RS SYN-ACK arrives (docs/protocol.md §2 S4).
//
// `next` uses the table packed into eight 64-bit constants (4 bits per state, 11 TCP states per
// row), so a transition is a shift and a mask: no array access, no global, no reference counting.
// The readable `rows` below are the source of truth; a test checks the constants against them.
// UDP pseudo-states are outside the table and never change here (see `nextUDP`).

/// The IPVS TCP state table.
public enum TCPStateMachine {
    /// TCP header flag bits (byte 13 of the header).
    @inlinable public static var fin: UInt8 { 0x01 }
    @inlinable public static var syn: UInt8 { 0x02 }
    @inlinable public static var rst: UInt8 { 0x04 }
    @inlinable public static var ack: UInt8 { 0x10 }

    /// Number of TCP states (columns): `none` through `synAck`.
    @usableFromInline static var tcpStateCount: UInt8 { 11 }

    /// The table as written above, one row per (direction, event), events in the order syn, fin,
    /// ack, rst; inbound rows first. Columns follow `ConnectionState` raw values 0..<11.
    public static let rows: [[ConnectionState]] = {
        let sES = ConnectionState.established
        let sSS = ConnectionState.synSent
        let sSR = ConnectionState.synRecv
        let sFW = ConnectionState.finWait
        let sTW = ConnectionState.timeWait
        let sCL = ConnectionState.close
        let sCW = ConnectionState.closeWait
        let sLA = ConnectionState.lastAck
        let sLI = ConnectionState.listen
        return [
            // from: NO   ES   SS   SR   FW   TW   CL   CW   LA   LI   SA
            [sSR, sES, sES, sSR, sSR, sSR, sSR, sSR, sSR, sSR, sSR],  // INPUT syn
            [sCL, sCW, sSS, sTW, sTW, sTW, sCL, sCW, sLA, sLI, sTW],  // INPUT fin
            [sCL, sES, sSS, sES, sFW, sTW, sCL, sCW, sCL, sLI, sES],  // INPUT ack
            [sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sSR],  // INPUT rst
            [sSS, sES, sSS, sSR, sSS, sSS, sSS, sSS, sSS, sLI, sSR],  // OUTPUT syn
            [sTW, sFW, sSS, sTW, sFW, sTW, sCL, sTW, sLA, sLI, sTW],  // OUTPUT fin
            [sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sLA, sES, sES],  // OUTPUT ack
            [sCL, sCL, sSS, sCL, sCL, sTW, sCL, sCL, sCL, sCL, sCL],  // OUTPUT rst
        ]
    }()

    /// The event index of a flag byte: 0 SYN, 1 FIN, 2 ACK, 3 RST by priority RST > SYN > FIN > ACK,
    /// or nil when none is set.
    @inlinable
    public static func event(flags: UInt8) -> Int? {
        if flags & rst != 0 { return 3 }
        if flags & syn != 0 { return 0 }
        if flags & fin != 0 { return 1 }
        if flags & ack != 0 { return 2 }
        return nil
    }

    /// The state after a segment with `flags` travelling in `direction` (inbound = client → RS).
    @inlinable @inline(__always)
    public static func next(_ state: ConnectionState, direction: FlowDirection, flags: UInt8) -> ConnectionState {
        // Most segments: a plain ACK on an established connection keeps it so, both ways (the
        // table's ACK rows, column ES).
        if state == .established && flags & (rst | syn | fin | ack) == ack { return .established }
        return nextFromTable(state, direction: direction, flags: flags)
    }

    /// `next` by the table.
    @inlinable
    static func nextFromTable(_ state: ConnectionState, direction: FlowDirection, flags: UInt8) -> ConnectionState {
        guard state.rawValue < tcpStateCount, let e = event(flags: flags) else { return state }
        // Row words: the 4-bit next state for "from" state c sits at bits 4c..<4c+4. They are the
        // rows above, packed; `TCPStateMachineTests.packedTableMatchesRows` checks every cell.
        let row: UInt64
        switch (direction, e) {
        case (.inbound, 0): row = 0x0000_0333_3333_3113
        case (.inbound, 1): row = 0x0000_0598_7655_5276
        case (.inbound, 2): row = 0x0000_0196_7654_1216
        case (.inbound, _): row = 0x0000_0398_6666_3666
        case (.outbound, 0): row = 0x0000_0392_2222_3212
        case (.outbound, 1): row = 0x0000_0598_5654_5245
        case (.outbound, 2): row = 0x0000_0118_7654_1211
        case (.outbound, _): row = 0x0000_0666_6656_6266
        }
        let raw = UInt8(truncatingIfNeeded: row >> (UInt64(state.rawValue) * 4)) & 0xF
        return ConnectionState(rawValue: raw) ?? state
    }

    /// True for the state IPVS counts as an active connection (wlc weighs active ones 256×).
    @inlinable
    public static func isActive(_ state: ConnectionState) -> Bool {
        state == .established
    }
}
