// systemd's readiness protocol (sd_notify(3)): datagrams such as `READY=1`, `STOPPING=1` and
// `WATCHDOG=1` sent to the unix socket named by NOTIFY_SOCKET (a path, or an abstract name that
// starts with '@'). Without NOTIFY_SOCKET every call does nothing, so the daemon runs the same
// under systemd, in a terminal and in tests. It lives here because building a sockaddr_un needs
// `unsafe`, which only this target may use. CXDP is imported for the socket constants: its shim pulls
// in <sys/socket.h> (and the ethtool UAPI), and in an optimised build Swift then finds SOCK_DGRAM only
// through that module.

import CXDP

#if canImport(Glibc)
    import Glibc
#endif

/// Sends sd_notify messages when the service manager asked for them.
public struct SystemdNotifier: Sendable {
    /// The socket path from NOTIFY_SOCKET, nil when not run by a service manager.
    public let socketPath: String?
    /// The watchdog interval asked for with WATCHDOG_USEC, in microseconds; nil when none.
    public let watchdogMicroseconds: UInt64?

    public init(environment: [String: String]) {
        let path = environment["NOTIFY_SOCKET"]
        socketPath = (path?.isEmpty ?? true) ? nil : path
        watchdogMicroseconds = environment["WATCHDOG_USEC"].flatMap(UInt64.init).flatMap { $0 > 0 ? $0 : nil }
    }

    /// Sends one message; false when there is no socket or sending failed.
    @discardableResult
    public func notify(_ message: String) -> Bool {
        guard let socketPath else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | O_CLOEXEC, 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        // struct sockaddr_un: sun_family (2 bytes), sun_path (108 bytes); '@' means the abstract namespace.
        var pathBytes = Array(socketPath.utf8)
        if pathBytes.first == UInt8(ascii: "@") { pathBytes[0] = 0 }
        let pathCapacity = 108
        guard pathBytes.count < pathCapacity else { return false }
        var address = [UInt8](repeating: 0, count: 2 + pathCapacity)
        let family = UInt16(AF_UNIX)
        address[0] = UInt8(family & 0xFF)
        address[1] = UInt8(family >> 8)
        for (i, byte) in pathBytes.enumerated() { address[2 + i] = byte }
        let length = socklen_t(2 + pathBytes.count + (pathBytes.first == 0 ? 0 : 1))
        let payload = Array(message.utf8)
        let sent = unsafe payload.withUnsafeBytes { body in
            unsafe address.withUnsafeBytes { raw in
                unsafe sendto(
                    fd, body.baseAddress, body.count, Int32(MSG_NOSIGNAL),
                    raw.baseAddress?.assumingMemoryBound(to: sockaddr.self), length)
            }
        }
        return sent == payload.count
    }
}
