// Entering a named network namespace from Swift. `ip netns add NAME` bind-mounts the namespace at
// /var/run/netns/NAME; setns(2) on an open descriptor of that file moves the *calling thread* (not the
// process) into it. Sockets opened afterwards on that thread, and threads it creates, live there; so a
// NetlinkMirror (or an AF_XDP socket) is placed in a namespace by creating it on a dedicated thread that
// entered it first. Never call this on a thread you do not own (a Swift concurrency or test pool thread).

import CXDP
import SluiceCore

#if canImport(Glibc)
    import Glibc
#endif

/// Network namespace helpers for the calling thread.
public enum NetlinkNamespace {
    /// Moves the calling thread into the network namespace `name` (as created by `ip netns add`).
    /// - Throws: `XDPError` when the name is invalid, the namespace does not exist, or setns fails
    ///   (needs CAP_SYS_ADMIN).
    public static func enter(named name: String) throws(XDPError) {
        guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
            throw XDPError(operation: "enter network namespace", subject: name, code: EINVAL)
        }
        let path = "/var/run/netns/" + name
        let descriptor = unsafe open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw XDPError.fromErrno("open network namespace", path) }
        defer { close(descriptor) }
        guard cxdp_setns_net(descriptor) == 0 else { throw XDPError.fromErrno("enter network namespace", name) }
    }
}
