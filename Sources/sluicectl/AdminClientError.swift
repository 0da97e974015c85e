// Why an admin API call failed, worded for the one line sluicectl prints: `sluicectl: <description>`.

import Foundation
import NIOCore
import SluiceAdmin

enum AdminClientError: Error, CustomStringConvertible {
    /// No daemon at the socket: absent, refused, or not ours to open.
    case unreachable(socket: String, reason: String)
    /// Connected, but no complete answer before the deadline.
    case timedOut(socket: String, seconds: Int64)
    /// The daemon answered with an error (4xx/5xx and an APIError).
    case refused(APIError)
    /// An answer that is not the API's (no JSON, wrong type, broken HTTP).
    case unexpectedAnswer(String)

    var description: String {
        switch self {
        case .unreachable(let socket, let reason): "cannot reach sluice at \(socket): \(reason)"
        case .timedOut(let socket, let seconds): "no answer from sluice at \(socket) within \(seconds) s"
        case .refused(let error): error.text
        case .unexpectedAnswer(let what): "unexpected answer from sluice: \(what)"
        }
    }

    /// The system's reason for a failed connect, in words an operator acts on.
    static func reason(_ error: any Error) -> String {
        guard let error = error as? IOError else { return "\(error)" }
        switch error.errnoCode {
        case ENOENT: return "no such socket (is sluice running, with an admin socket at this path?)"
        case ECONNREFUSED: return "connection refused (nothing listens on the socket; is sluice running?)"
        case EACCES, EPERM: return "permission denied (the socket is root's; run as root)"
        case ENOTSOCK: return "not a socket"
        default: return "\(error)"
        }
    }
}
