// The netlink mirror as a service: it follows the kernel's routes and neighbours on a thread of its
// own from start-up (the data plane reads its snapshots); this service owns its lifetime and stops it
// at the end of the graceful shutdown. It is the first service of the group, so it stops after every
// other one, the data plane included, which needs the mirror until its workers have stopped.

import ServiceLifecycle
import SluiceXDP

/// Stops the netlink mirror last.
public struct NetlinkMirrorService: Service {
    let mirror: NetlinkMirror

    public init(mirror: NetlinkMirror) {
        self.mirror = mirror
    }

    public func run() async {
        try? await gracefulShutdown()
        mirror.stop()
    }
}
