// Hand-off between workers (docs/design.md §2): a frame that arrives at a worker which does not own its
// connection goes to the owner by descriptor, without a copy, because all workers' sockets share one
// UMEM. Between every ordered pair of workers (i, j) there are two single-producer single-consumer rings
// (UserRing.swift):
//
//   frames  i → j   descriptors (address, length, arrival side) of frames i received and j owns;
//   returns j → i   addresses of i's frames j has sent or dropped, going back to i's fill rings.
//
// So a frame always returns to the worker that received it, and a worker's share of the UMEM never
// drains into another's. A full frames ring is back-pressure: the frame is dropped and counted
// (`drop_hand_off_full`), never waited for. A returns ring holds as many entries as a worker has
// frames, so giving one back cannot fail.
//
// Wakeups: a worker with nothing to do sleeps in poll() on its sockets and its eventfd. Before sleeping
// it sets its "asleep" word and then looks at its incoming rings once more; a producer publishes to a ring
// and then reads the consumer's word, and writes the eventfd when it is set. Both sides put a full fence
// between their store and their load (cxdp_store_seq_cst / cxdp_fence_seq_cst), so at least one of them
// sees the other: no frame waits for a poll timeout. The eventfd is written at most once per loop round
// and only while the peer sleeps, so a busy mesh makes no system call for it.

import CXDP

#if canImport(Glibc)
    import Glibc
#endif

/// The rings, sleep words and eventfds linking every worker with every other.
@safe
public final class HandOffMesh: @unchecked Sendable {
    /// Descriptors in each frames ring: the most frames one worker can have waiting at another.
    public static let defaultFramesRingSize: UInt32 = 1024
    /// Entries of the unused rings from a worker to itself (so every peer slot is a valid link).
    private static let selfRingSize: UInt32 = 2
    /// Words between two workers' sleep words (one cache line each).
    private static let wordsPerLine = 16

    /// Number of workers.
    public let workerCount: Int
    private let frames: [UserRing]
    private let returns: [UserRing]
    private let asleep: UnsafeMutablePointer<UInt32>
    private let eventFDs: [Int32]
    private let peerTables: [UnsafeMutablePointer<HandOffPeer>]

    /// - Parameters:
    ///   - workerCount: workers sharing the UMEM (≥ 2).
    ///   - framesPerWorker: each worker's share of the UMEM (a power of two): the returns rings' size.
    ///   - framesRingSize: descriptors per frames ring (a power of two).
    /// - Throws: `XDPError` when an eventfd cannot be created.
    public init(workerCount: Int, framesPerWorker: Int, framesRingSize: UInt32 = defaultFramesRingSize)
        throws(XDPError)
    {
        precondition(workerCount >= 2 && framesPerWorker.nonzeroBitCount == 1 && framesRingSize.nonzeroBitCount == 1)
        var descriptors = [UserRing]()
        var addresses = [UserRing]()
        for from in 0..<workerCount {
            for to in 0..<workerCount {
                let own = from == to
                descriptors.append(UserRing(size: own ? Self.selfRingSize : framesRingSize, descriptors: true))
                addresses.append(
                    UserRing(size: own ? Self.selfRingSize : UInt32(framesPerWorker), descriptors: false))
            }
        }
        var fds = [Int32]()
        for _ in 0..<workerCount {
            let fd = cxdp_eventfd()
            guard fd >= 0 else {
                let failure = XDPError.fromErrno("create hand-off eventfd")
                for open in fds { close(open) }
                throw failure
            }
            fds.append(fd)
        }
        let asleep = UnsafeMutablePointer<UInt32>.allocate(capacity: workerCount * Self.wordsPerLine)
        unsafe asleep.initialize(repeating: 0, count: workerCount * Self.wordsPerLine)
        var tables = unsafe [UnsafeMutablePointer<HandOffPeer>]()
        for worker in 0..<workerCount {
            let table = UnsafeMutablePointer<HandOffPeer>.allocate(capacity: workerCount)
            for peer in 0..<workerCount {
                let out = worker * workerCount + peer
                let back = peer * workerCount + worker
                unsafe (table + peer).initialize(
                    to: HandOffPeer(
                        frames: TxRing(descriptors[out].producerRing), incoming: RxRing(descriptors[back].consumerRing),
                        returns: FillRing(addresses[out].producerRing),
                        returned: CompletionRing(addresses[back].consumerRing),
                        peerAsleep: asleep + peer * Self.wordsPerLine, peerEventFD: fds[peer]))
            }
            unsafe tables.append(table)
        }
        self.workerCount = workerCount
        self.frames = descriptors
        self.returns = addresses
        unsafe self.asleep = asleep
        self.eventFDs = fds
        unsafe self.peerTables = tables
    }

    deinit {
        // (An index loop: swift-format mangles `for unsafe x in`.)
        for index in 0..<workerCount { unsafe peerTables[index].deinitialize(count: workerCount).deallocate() }
        unsafe asleep.deallocate()
        for fd in eventFDs { close(fd) }
    }

    /// Worker `worker`'s end of the mesh.
    func end(of worker: Int) -> HandOffEnd {
        unsafe HandOffEnd(
            worker: worker, workerCount: workerCount, peers: peerTables[worker],
            asleep: asleep + worker * Self.wordsPerLine, eventFD: eventFDs[worker])
    }
}

/// One worker's end of the mesh, as its hot loop holds it: raw pointers into memory the mesh owns (the
/// worker keeps the mesh alive).
@unsafe
struct HandOffEnd: @unchecked Sendable {
    let worker: Int
    let workerCount: Int
    /// One entry per worker; the worker's own entry is never used.
    let peers: UnsafeMutablePointer<HandOffPeer>
    /// This worker's "asleep in poll()" word.
    let asleep: UnsafeMutablePointer<UInt32>
    /// This worker's eventfd.
    let eventFD: Int32
}
