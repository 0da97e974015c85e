// One Sluice per interface. A stale `sluice_steer` left by a crashed run is replaced at start-up,
// which must not also replace the program of a Sluice that is alive: each run takes an exclusive
// flock(2) per (network namespace, interface) before it touches any program. The kernel drops the
// lock when the holder dies, however it dies, so a crash never leaves a lock behind — which is what
// makes "locked" mean "alive" and "attached but unlocked" mean "stale".
//
// The lock file lives in /run/sluice (or $SLUICE_LOCK_DIR), named by the namespace's inode and the
// ifindex, because interface names repeat across namespaces while /run is shared by all of them.

#if canImport(Glibc)
    import Glibc
#endif

/// An exclusive, process-lifetime lock on one interface of the current network namespace.
final class InterfaceLock {
    private let fd: Int32

    /// Takes the lock or throws `EBUSY` naming the interface when another Sluice holds it.
    init(interfaceIndex: Int32, interfaceName: String) throws(XDPError) {
        let directory = Self.directory()
        _ = unsafe mkdir(directory, 0o755)
        var namespace = stat()
        let namespaceID = unsafe stat("/proc/thread-self/ns/net", &namespace) == 0 ? namespace.st_ino : 0
        let path = "\(directory)/lock-\(namespaceID)-\(interfaceIndex)"
        let fd = unsafe open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw XDPError(operation: "lock interface", subject: interfaceName, code: errno, detail: path)
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            close(fd)
            throw XDPError(
                operation: "lock interface", subject: interfaceName, code: code == EWOULDBLOCK ? EBUSY : code,
                detail: "another sluice is already running on \(interfaceName)")
        }
        self.fd = fd
    }

    deinit { close(fd) }

    private static func directory() -> String {
        if let custom = unsafe getenv("SLUICE_LOCK_DIR") { return unsafe String(cString: custom) }
        return "/run/sluice"
    }
}
