// setns(2) for the calling thread only. Network namespaces are per thread, so a process that serves an
// interface in another namespace (tests, or a daemon started outside the gateway's namespace) moves one
// dedicated thread and creates its sockets there; worker threads it starts inherit the namespace. Never
// call this on a thread you do not own (a Swift concurrency pool thread, a test runner thread).

import CXDP

#if canImport(Glibc)
    import Glibc
#endif

/// Moves the calling thread between network namespaces.
public enum NetworkNamespace {
    /// Enters the namespace `ip netns add NAME` created (/var/run/netns/NAME).
    public static func enter(named name: String) throws(XDPError) {
        try enter(path: "/var/run/netns/\(name)")
    }

    /// Enters the namespace at a path (/proc/PID/ns/net, /var/run/netns/NAME).
    public static func enter(path: String) throws(XDPError) {
        let fd = unsafe open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw XDPError.fromErrno("open network namespace", path) }
        defer { close(fd) }
        guard cxdp_setns_net(fd) == 0 else { throw XDPError.fromErrno("enter network namespace", path) }
    }
}
