// The NETLINK_ROUTE socket: the only part of the mirror that touches the kernel, and so the only part that
// needs `unsafe` (buffers handed to send/recv/bind/setsockopt). A netlink socket belongs to the network
// namespace of the thread that created it, for its whole life; the mirror therefore creates its sockets
// in the caller's thread and may then serve them from any thread.
//
// Reception reports the two ways a netlink socket loses messages as `.overrun`: ENOBUFS (the kernel
// dropped multicast events because the receive buffer was full) and a datagram longer than the buffer
// (MSG_TRUNC returns the real length). Either way the caller must re-dump.

import SluiceCore

#if canImport(Glibc)
    import Glibc
#endif

/// An rtnetlink socket, closed when dropped.
struct NetlinkSocket: ~Copyable {
    let descriptor: Int32

    /// What one receive produced.
    enum Received: Equatable {
        /// `count` bytes of one datagram are in the buffer.
        case bytes(Int)
        /// Nothing queued (non-blocking receive).
        case wouldBlock
        /// Messages were lost: re-synchronise.
        case overrun
    }

    /// Opens a socket in the calling thread's network namespace, binds it (the kernel picks the port id)
    /// and joins `groups` (RTNLGRP_*).
    /// - Parameter receiveBufferSize: bytes to request with SO_RCVBUFFORCE (SO_RCVBUF without privilege);
    ///   0 keeps the default.
    init(groups: [UInt32] = [], receiveBufferSize: Int = 0) throws(XDPError) {
        // SOCK_CLOEXEC is defined as O_CLOEXEC; the enum constant is not visible in every import context.
        let fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | O_CLOEXEC, Netlink.protocolRoute)
        guard fd >= 0 else { throw XDPError.fromErrno("open rtnetlink socket") }
        if let error = NetlinkSocket.configure(fd, groups: groups, receiveBufferSize: receiveBufferSize) {
            close(fd)
            throw error
        }
        descriptor = fd
    }

    /// Buffer size, bind and group membership; the error, if any.
    private static func configure(_ fd: Int32, groups: [UInt32], receiveBufferSize: Int) -> XDPError? {
        if receiveBufferSize > 0 {
            var size = Int32(clamping: receiveBufferSize)
            let length = socklen_t(MemoryLayout<Int32>.size)
            if unsafe setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, length) != 0 {
                _ = unsafe setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, length)
            }
        }
        // struct sockaddr_nl: nl_family, nl_pad, nl_pid (0: assigned by the kernel), nl_groups (0: we join
        // groups with NETLINK_ADD_MEMBERSHIP, which also reaches groups above 32).
        let address: [UInt8] = NetlinkWriter.u16(Netlink.familyNetlink) + [UInt8](repeating: 0, count: 10)
        let bound = unsafe address.withUnsafeBytes { raw in
            unsafe bind(fd, raw.baseAddress?.assumingMemoryBound(to: sockaddr.self), socklen_t(raw.count))
        }
        guard bound == 0 else { return XDPError.fromErrno("bind rtnetlink socket") }
        for group in groups {
            var value = group
            guard
                unsafe setsockopt(
                    fd, Netlink.solNetlink, Netlink.addMembership, &value, socklen_t(MemoryLayout<UInt32>.size)) == 0
            else { return XDPError.fromErrno("join rtnetlink group", "group \(group)") }
        }
        return nil
    }

    deinit { close(descriptor) }

    /// Sends one request to the kernel.
    func send(_ bytes: [UInt8]) throws(XDPError) {
        while true {
            let sent = unsafe bytes.withUnsafeBytes { raw in
                unsafe Glibc.send(descriptor, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL))
            }
            if sent == bytes.count { return }
            if sent < 0 && errno == EINTR { continue }
            throw sent < 0
                ? XDPError.fromErrno("send rtnetlink request")
                : XDPError(operation: "send rtnetlink request", code: EMSGSIZE)
        }
    }

    /// Receives one datagram into `buffer` (whose count is the maximum), without waiting.
    func receive(into buffer: inout [UInt8]) throws(XDPError) -> Received {
        while true {
            let capacity = buffer.count
            let received = unsafe buffer.withUnsafeMutableBytes { raw in
                unsafe recv(descriptor, raw.baseAddress, raw.count, Int32(MSG_TRUNC | MSG_DONTWAIT))
            }
            if received > capacity { return .overrun }
            if received >= 0 { return .bytes(received) }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            case ENOBUFS: return .overrun
            default: throw XDPError.fromErrno("receive from rtnetlink")
            }
        }
    }

    /// Waits until a datagram is queued or `milliseconds` pass. True when one is.
    func waitReadable(milliseconds: Int32) -> Bool {
        var descriptorSet = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let ready = unsafe poll(&descriptorSet, 1, milliseconds)
        return ready > 0
    }
}
