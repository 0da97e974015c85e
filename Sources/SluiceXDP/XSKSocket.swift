// An AF_XDP socket bound to one (interface, queue), sharing its worker's UMEM.
//
// - XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD: libxdp must not load its own redirect program; sluice_steer is
//   attached by XDPProgram and the socket is put in its XSKMAP by the runtime.
// - XDP_USE_NEED_WAKEUP: the kernel says when it needs a syscall, so the busy loop makes none otherwise.
// - Copy mode by default (works on every driver, veth included); zero-copy is tried only on request and
//   falls back to copy when the driver refuses.
// - EBUSY at bind means the previous owner of the queue closed it a moment ago and the kernel has not yet
//   torn its buffer pool down (deferred work): retry with backoff for about three seconds.
// - The first socket on a UMEM uses the fill/completion rings created with the UMEM; every further
//   (interface, queue) pair brings its own, through xsk_socket__create_shared. All ring structs are heap
//   allocated once (libxdp keeps the pointers) and freed after the socket is deleted.

import CXDP
import SluiceCore

#if canImport(Glibc)
    import Glibc
#endif

/// An AF_XDP socket on one interface queue.
@safe
public final class XSKSocket {
    /// Socket creation options.
    public struct Options: Sendable, Hashable {
        /// rx ring entries (power of two).
        public var rxSize: UInt32
        /// tx ring entries (power of two).
        public var txSize: UInt32
        /// Try zero-copy first (native mode only); falls back to copy mode.
        public var zeroCopy: Bool
        /// How long to retry a bind that fails with EBUSY.
        public var busyRetryMilliseconds: Int

        public init(
            rxSize: UInt32 = 2048, txSize: UInt32 = 2048, zeroCopy: Bool = false, busyRetryMilliseconds: Int = 3000
        ) {
            self.rxSize = rxSize
            self.txSize = txSize
            self.zeroCopy = zeroCopy
            self.busyRetryMilliseconds = busyRetryMilliseconds
        }
    }

    /// The interface's name.
    public let interfaceName: String
    /// The queue it is bound to.
    public let queue: UInt32
    /// The socket descriptor (for the XSKMAP and wakeups).
    public let fd: Int32
    /// True when bound in zero-copy mode.
    public let isZeroCopy: Bool
    /// The packet memory it uses.
    public let umem: Umem

    private let handle: OpaquePointer
    let rx: UnsafeMutablePointer<xsk_ring_cons>
    let tx: UnsafeMutablePointer<xsk_ring_prod>
    let fill: UnsafeMutablePointer<xsk_ring_prod>
    let completion: UnsafeMutablePointer<xsk_ring_cons>
    private let ownsFillAndCompletion: Bool

    /// Creates and binds the socket.
    /// - Throws: `XDPError` naming the interface and queue.
    public init(interface: String, queue: UInt32, umem: Umem, options: Options = Options()) throws(XDPError) {
        let subject = "\(interface) queue \(queue)"
        for size in [options.rxSize, options.txSize] where size.nonzeroBitCount != 1 {
            throw XDPError(
                operation: "create AF_XDP socket", subject: subject, code: EINVAL,
                detail: "ring size \(size) is not a power of two")
        }
        let usesFirstRings = !umem.firstRingsTaken
        let fill = unsafe usesFirstRings ? umem.firstFill : UnsafeMutablePointer<xsk_ring_prod>.allocate(capacity: 1)
        let completion =
            unsafe usesFirstRings ? umem.firstCompletion : UnsafeMutablePointer<xsk_ring_cons>.allocate(capacity: 1)
        if !usesFirstRings {
            unsafe fill.initialize(to: xsk_ring_prod())
            unsafe completion.initialize(to: xsk_ring_cons())
        }
        let rx = UnsafeMutablePointer<xsk_ring_cons>.allocate(capacity: 1)
        let tx = UnsafeMutablePointer<xsk_ring_prod>.allocate(capacity: 1)
        unsafe rx.initialize(to: xsk_ring_cons())
        unsafe tx.initialize(to: xsk_ring_prod())

        var zeroCopy = options.zeroCopy
        var waited = 0
        var delay = 50
        var created: OpaquePointer?
        while true {
            var config = xsk_socket_config()
            config.rx_size = options.rxSize
            config.tx_size = options.txSize
            config.libxdp_flags = UInt32(XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD)
            config.xdp_flags = 0
            config.bind_flags = UInt16(XDP_USE_NEED_WAKEUP) | UInt16(zeroCopy ? XDP_ZEROCOPY : XDP_COPY)
            LibraryLog.clear()
            let rc = unsafe xsk_socket__create_shared(
                &created, interface, queue, umem.handle, rx, tx, fill, completion, &config)
            if rc == 0 { break }
            if rc == -EBUSY && waited < options.busyRetryMilliseconds {
                usleep(UInt32(delay * 1000))
                waited += delay
                delay = Swift.min(delay * 2, 500)
                continue
            }
            if zeroCopy && (rc == -EOPNOTSUPP || rc == -EINVAL || rc == -EPROTONOSUPPORT) {
                zeroCopy = false
                continue
            }
            unsafe rx.deallocate()
            unsafe tx.deallocate()
            if !usesFirstRings {
                unsafe fill.deallocate()
                unsafe completion.deallocate()
            }
            throw XDPError.fromReturn(rc, "create AF_XDP socket", subject, detail: LibraryLog.recent())
        }
        guard let handle = unsafe created else {
            throw XDPError(operation: "create AF_XDP socket", subject: subject, code: EINVAL)
        }
        if usesFirstRings { umem.firstRingsTaken = true }
        self.interfaceName = interface
        self.queue = queue
        self.umem = umem
        self.isZeroCopy = zeroCopy
        self.fd = unsafe xsk_socket__fd(handle)
        unsafe self.handle = handle
        unsafe self.rx = rx
        unsafe self.tx = tx
        unsafe self.fill = fill
        unsafe self.completion = completion
        self.ownsFillAndCompletion = !usesFirstRings
    }

    deinit {
        unsafe xsk_socket__delete(handle)
        unsafe rx.deallocate()
        unsafe tx.deallocate()
        if ownsFillAndCompletion {
            unsafe fill.deallocate()
            unsafe completion.deallocate()
        }
    }

    /// The hot loop's view of this socket.
    func port(side: Side) -> XSKPort {
        unsafe XSKPort(
            rx: RxRing(rx), tx: TxRing(tx), fill: FillRing(fill), completion: CompletionRing(completion), fd: fd,
            side: side)
    }
}
