// A self-pipe that lets any thread wake the mirror's background thread out of poll(2) at once (used when
// a worker queues a resolution request), so that workers never make netlink calls themselves. Both ends
// are non-blocking: a full pipe means a wake-up is already pending, and the mirror keeps the read end
// open for as long as anyone may write (no SIGPIPE).

import SluiceCore

#if canImport(Glibc)
    import Glibc
#endif

/// A non-blocking self-pipe, closed when dropped.
struct NetlinkWakeup: ~Copyable, Sendable {
    let readEnd: Int32
    let writeEnd: Int32

    init() throws(XDPError) {
        var descriptors: [Int32] = [-1, -1]
        guard unsafe pipe(&descriptors) == 0 else { throw XDPError.fromErrno("create wake-up pipe") }
        for descriptor in descriptors {
            _ = fcntl(descriptor, F_SETFL, O_NONBLOCK)
            _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
        }
        readEnd = descriptors[0]
        writeEnd = descriptors[1]
    }

    deinit {
        close(readEnd)
        close(writeEnd)
    }

    /// Wakes the waiting thread (never blocks).
    func signal() {
        var byte: UInt8 = 1
        _ = unsafe write(writeEnd, &byte, 1)
    }

    /// Waits until `descriptor` is readable, a signal arrives on the pipe whose read end is `readEnd`, or
    /// `milliseconds` pass; consumes the signals. (Static so that a thread that does not own the pipe can
    /// wait on it; the owner keeps it open until that thread has stopped.)
    /// - Returns: whether `descriptor` is readable.
    static func wait(for descriptor: Int32, orSignalOn readEnd: Int32, milliseconds: Int32) -> Bool {
        var descriptors = [
            pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0),
            pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0),
        ]
        guard unsafe poll(&descriptors, 2, milliseconds) > 0 else { return false }
        if descriptors[1].revents != 0 {
            var scratch = [UInt8](repeating: 0, count: 64)
            while unsafe scratch.withUnsafeMutableBytes({ unsafe read(readEnd, $0.baseAddress, $0.count) }) > 0 {}
        }
        return descriptors[0].revents != 0
    }
}
