// IPVS's names of connection states, as ipvsadm -Lnc prints them.

import SluiceCore

/// ipvsadm's spelling of a connection state.
enum ConnectionStateName {
    static func ipvs(_ state: ConnectionState) -> String {
        switch state {
        case .none: return "NONE"
        case .established: return "ESTABLISHED"
        case .synSent: return "SYN_SENT"
        case .synRecv: return "SYN_RECV"
        case .finWait: return "FIN_WAIT"
        case .timeWait: return "TIME_WAIT"
        case .close: return "CLOSE"
        case .closeWait: return "CLOSE_WAIT"
        case .lastAck: return "LAST_ACK"
        case .listen: return "LISTEN"
        case .synAck: return "SYNACK"
        case .udpOneway, .udpNormal: return "UDP"
        }
    }
}
