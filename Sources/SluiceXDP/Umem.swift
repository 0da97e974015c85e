// A UMEM: the packet memory one worker's sockets share (docs/afxdp.md §3). Frames move between the
// external and internal socket by descriptor, so forwarding copies nothing in userspace.
//
// - Anonymous mmap, page aligned, frameCount × frameSize bytes. The pages are charged to RLIMIT_MEMLOCK
//   unless the process has CAP_IPC_LOCK; a refusal surfaces as ENOBUFS, reported with that hint.
// - frameSize defaults to 4096 (one page) rather than 2048 so a frame can grow in place for a TOA option
//   or a PROXY header; aligned mode needs a power of two between 2048 and the page size.
// - The fill and completion rings given to xsk_umem__create belong to the first socket bound with this
//   UMEM; every further (interface, queue) brings its own pair (see XSKSocket). libxdp keeps the ring
//   pointers, so the ring structs are heap-allocated once and never move.
// - Fill and completion rings are sized to the frames one worker owns (all of them for a single worker;
//   the UMEM is shared by every worker when there are several, HandOffMesh.swift), so staging a frame
//   there can never fail.

import CXDP

#if canImport(Glibc)
    import Glibc
#endif

/// Packet memory registered with the kernel, shared by one worker's AF_XDP sockets.
@safe
public final class Umem {
    /// Bytes per frame (chunk).
    public let frameSize: Int
    /// Number of frames (of every worker sharing it).
    public let frameCount: Int

    let area: UnsafeMutableRawPointer
    let handle: OpaquePointer
    let firstFill: UnsafeMutablePointer<xsk_ring_prod>
    let firstCompletion: UnsafeMutablePointer<xsk_ring_cons>
    /// Set when a socket has taken `firstFill`/`firstCompletion`.
    var firstRingsTaken = false

    /// Maps and registers the memory.
    /// - Parameters:
    ///   - frameSize: a power of two in 2048...page size.
    ///   - frameCount: a power of two ≥ 64 per worker.
    ///   - workers: the workers sharing the UMEM, each owning `frameCount` frames.
    /// - Throws: `XDPError` (ENOBUFS when over RLIMIT_MEMLOCK without CAP_IPC_LOCK).
    public init(frameSize: Int = 4096, frameCount: Int = 4096, workers: Int = 1) throws(XDPError) {
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        guard frameSize.nonzeroBitCount == 1, frameSize >= 2048, frameSize <= pageSize else {
            throw XDPError(
                operation: "create UMEM", code: EINVAL,
                detail: "frame size \(frameSize) must be a power of two in 2048...\(pageSize)")
        }
        guard frameCount.nonzeroBitCount == 1, frameCount >= 64, frameCount <= 1 << 20 else {
            throw XDPError(
                operation: "create UMEM", code: EINVAL,
                detail: "frame count \(frameCount) must be a power of two in 64...1048576")
        }
        guard workers >= 1, workers <= (1 << 20) / frameCount else {
            throw XDPError(
                operation: "create UMEM", code: EINVAL, detail: "\(workers) workers × \(frameCount) frames is too many")
        }
        self.frameSize = frameSize
        self.frameCount = frameCount * workers
        let size = frameSize * frameCount * workers
        guard
            let mapped = unsafe mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
            unsafe mapped != UnsafeMutableRawPointer(bitPattern: -1)
        else {
            throw XDPError.fromErrno("map UMEM memory", detail: "\(size) bytes")
        }
        let fill = UnsafeMutablePointer<xsk_ring_prod>.allocate(capacity: 1)
        let completion = UnsafeMutablePointer<xsk_ring_cons>.allocate(capacity: 1)
        unsafe fill.initialize(to: xsk_ring_prod())
        unsafe completion.initialize(to: xsk_ring_cons())
        var config = xsk_umem_config(
            fill_size: UInt32(frameCount), comp_size: UInt32(frameCount), frame_size: UInt32(frameSize),
            frame_headroom: 0, flags: 0)
        var created: OpaquePointer?
        LibraryLog.clear()
        let rc = unsafe xsk_umem__create(&created, mapped, UInt64(size), fill, completion, &config)
        guard rc == 0, let handle = unsafe created else {
            unsafe munmap(mapped, size)
            unsafe fill.deallocate()
            unsafe completion.deallocate()
            throw XDPError.fromReturn(
                rc, "register UMEM", detail: "\(frameCount * workers) frames × \(frameSize) bytes")
        }
        unsafe self.area = mapped
        unsafe self.handle = handle
        unsafe self.firstFill = fill
        unsafe self.firstCompletion = completion
    }

    deinit {
        // Every socket holds a reference to its UMEM, so none is left here and delete cannot return EBUSY.
        _ = unsafe xsk_umem__delete(handle)
        unsafe munmap(area, frameSize * frameCount)
        unsafe firstFill.deallocate()
        unsafe firstCompletion.deallocate()
    }

    /// Total bytes of packet memory.
    public var size: Int { frameSize * frameCount }
}
