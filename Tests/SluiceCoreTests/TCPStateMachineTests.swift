// The IPVS/dpvs TCP state table: whole connection lifecycles, flag priority, every cell of the
// packed table against the readable one, and the timeout each state selects.

import SluiceCore
import Testing

@Suite struct TCPStateMachineTests {
    static let syn = TCPStateMachine.syn
    static let ack = TCPStateMachine.ack
    static let fin = TCPStateMachine.fin
    static let rst = TCPStateMachine.rst

    /// Applies segments in order and returns the states after each.
    static func walk(_ segments: [(FlowDirection, UInt8)], from start: ConnectionState = .none) -> [ConnectionState] {
        var s = start
        return segments.map { direction, flags in
            s = TCPStateMachine.next(s, direction: direction, flags: flags)
            return s
        }
    }

    @Test func fullnatHandshakeAndClientClose() {
        let states = Self.walk([
            (.inbound, Self.syn),  // client SYN creates the connection
            (.outbound, Self.syn | Self.ack),  // RS SYN-ACK is an OUTPUT SYN event
            (.inbound, Self.ack),  // client ACK completes the handshake
            (.inbound, Self.ack | 0x08),  // data (PSH|ACK)
            (.outbound, Self.ack),
            (.inbound, Self.fin | Self.ack),  // client closes first
            (.outbound, Self.ack),
            (.outbound, Self.fin | Self.ack),  // RS closes
            (.inbound, Self.ack),
        ])
        #expect(
            states == [
                .synRecv, .synRecv, .established, .established, .established, .closeWait, .closeWait, .timeWait,
                .timeWait,
            ])
    }

    @Test func serverCloseFirst() {
        let states = Self.walk(
            [
                (.outbound, Self.fin | Self.ack),
                (.inbound, Self.ack),
                (.inbound, Self.fin | Self.ack),
            ], from: .established)
        #expect(states == [.finWait, .finWait, .timeWait])
    }

    @Test func resetsAndPriority() {
        // RST wins over everything else in the flags.
        #expect(TCPStateMachine.next(.established, direction: .inbound, flags: Self.rst | Self.ack) == .close)
        #expect(TCPStateMachine.next(.established, direction: .outbound, flags: Self.rst | Self.syn) == .close)
        // SYN beats FIN: SYN|FIN from NONE is a SYN.
        #expect(TCPStateMachine.next(.none, direction: .inbound, flags: Self.syn | Self.fin) == .synRecv)
        // FIN beats ACK.
        #expect(TCPStateMachine.next(.established, direction: .inbound, flags: Self.fin | Self.ack) == .closeWait)
        // IPVS keeps SYN_RECV on a client RST and SYN_SENT on an RS RST (SYNPROXY handles that case).
        #expect(TCPStateMachine.next(.synRecv, direction: .inbound, flags: Self.rst) == .synRecv)
        #expect(TCPStateMachine.next(.synSent, direction: .outbound, flags: Self.rst) == .synSent)
        #expect(TCPStateMachine.next(.timeWait, direction: .outbound, flags: Self.rst) == .timeWait)
        // No SYN/FIN/ACK/RST (e.g. only PSH or URG): no change.
        #expect(TCPStateMachine.next(.synRecv, direction: .inbound, flags: 0x08) == .synRecv)
        #expect(TCPStateMachine.event(flags: 0x28) == nil)
    }

    @Test func dpvsSpecificCells() {
        // dpvs: a stray inbound ACK with no connection state goes to CLOSE (mainline: ESTABLISHED).
        #expect(TCPStateMachine.next(.none, direction: .inbound, flags: Self.ack) == .close)
        // A new client SYN on a TIME_WAIT or CLOSE entry reopens it.
        #expect(TCPStateMachine.next(.timeWait, direction: .inbound, flags: Self.syn) == .synRecv)
        #expect(TCPStateMachine.next(.close, direction: .inbound, flags: Self.syn) == .synRecv)
        // LAST_ACK closes on the final inbound ACK.
        #expect(TCPStateMachine.next(.lastAck, direction: .inbound, flags: Self.ack) == .close)
        // SYNPROXY: SYN_SENT stays until the proxy itself moves it.
        #expect(TCPStateMachine.next(.synSent, direction: .inbound, flags: Self.ack) == .synSent)
        #expect(TCPStateMachine.next(.synSent, direction: .outbound, flags: Self.syn | Self.ack) == .synSent)
    }

    /// The packed words reproduce the readable table in every cell.
    @Test func packedTableMatchesRows() {
        let eventFlags: [UInt8] = [Self.syn, Self.fin, Self.ack, Self.rst]
        #expect(TCPStateMachine.rows.count == 8)
        for (r, row) in TCPStateMachine.rows.enumerated() {
            #expect(row.count == 11)
            let direction: FlowDirection = r < 4 ? .inbound : .outbound
            for (column, expected) in row.enumerated() {
                let from = ConnectionState(rawValue: UInt8(column))!
                let got = TCPStateMachine.next(from, direction: direction, flags: eventFlags[r % 4])
                #expect(got == expected, "row \(r) column \(column)")
            }
        }
    }

    @Test func udpStatesAreOutsideTheTcpTable() {
        for flags: UInt8 in [Self.syn, Self.fin, Self.ack, Self.rst] {
            #expect(TCPStateMachine.next(.udpOneway, direction: .inbound, flags: flags) == .udpOneway)
            #expect(TCPStateMachine.next(.udpNormal, direction: .outbound, flags: flags) == .udpNormal)
        }
        #expect(TCPStateMachine.nextUDP(.udpOneway, direction: .inbound) == .udpOneway)
        #expect(TCPStateMachine.nextUDP(.udpOneway, direction: .outbound) == .udpNormal)
        #expect(TCPStateMachine.nextUDP(.udpNormal, direction: .inbound) == .udpNormal)
    }

    @Test func timeoutsFollowTheState() {
        let t = TimeoutTable.dpvsDefaults
        #expect(TCPStateMachine.timeoutMilliseconds(.synRecv, timeouts: t) == 30_000)
        #expect(TCPStateMachine.timeoutMilliseconds(.established, timeouts: t) == 90_000)
        #expect(TCPStateMachine.timeoutMilliseconds(.finWait, timeouts: t) == 7_000)
        #expect(TCPStateMachine.timeoutMilliseconds(.timeWait, timeouts: t) == 7_000)
        #expect(TCPStateMachine.timeoutMilliseconds(.close, timeouts: t) == 3_000)
        #expect(TCPStateMachine.timeoutMilliseconds(.synSent, timeouts: t) == 3_000)
        #expect(TCPStateMachine.timeoutMilliseconds(.udpOneway, timeouts: t) == 30_000)
        // A service's establish_timeout replaces ESTABLISHED and UDP NORMAL only.
        #expect(TCPStateMachine.timeoutMilliseconds(.established, timeouts: t, established: 900_000) == 900_000)
        #expect(TCPStateMachine.timeoutMilliseconds(.udpNormal, timeouts: t, established: 60_000) == 60_000)
        #expect(TCPStateMachine.timeoutMilliseconds(.closeWait, timeouts: t, established: 900_000) == 7_000)
        // A lifecycle picks the timeout of each state it passes through.
        var state = ConnectionState.none
        var timeouts: [UInt64] = []
        for (direction, flags) in [(FlowDirection.inbound, Self.syn), (.inbound, Self.ack), (.inbound, Self.rst)] {
            state = TCPStateMachine.next(state, direction: direction, flags: flags)
            timeouts.append(TCPStateMachine.timeoutMilliseconds(state, timeouts: t))
        }
        #expect(timeouts == [30_000, 90_000, 3_000])
        #expect(TCPStateMachine.isActive(.established))
        #expect(!TCPStateMachine.isActive(.synRecv))
    }
}
