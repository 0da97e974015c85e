// Who gets a UMEM frame back once the kernel is done with it.
//
// A worker's sockets share one UMEM, so a frame received on one socket may be sent on the other. The
// recycling rule (docs/afxdp.md §3): a frame returns to the fill ring of the socket that received it,
// otherwise one-way traffic drains one side's pool into the other. Since every frame is only ever given
// to one fill ring, that socket is a fixed property of the frame: its *home*. Frames reserved for output
// the data plane generates itself (RSTs, ICMP errors, SYNs to real servers) have the free stack as home.
// So completion handling is one table lookup per frame, whatever path the frame took.
//
// With several workers the UMEM is shared (so that a frame can be handed to another worker without a
// copy, HandOffMesh.swift) and worker k owns the frames k·F ..< (k+1)·F. A frame outside that range is
// *foreign*: another worker handed it over, and once sent or dropped it goes back to its owner, the
// worker its index divides out to.
//
// Fixed-size tables allocated once; no allocation after init.

/// Frame ownership for one worker's UMEM: home per frame, and the stack of free generated-output frames.
@safe
struct FramePool: ~Copyable {
    /// Home of a frame that belongs to the free stack.
    static let stackHome: UInt8 = 0xFF
    /// Home of a frame another worker owns.
    static let foreignHome: UInt8 = 0xFE

    /// Frames this worker owns.
    let frameCount: Int
    /// The first of them (an index into the UMEM).
    let firstFrame: Int
    let frameSize: UInt64
    private let frameShift: UInt64
    private let homes: UnsafeMutablePointer<UInt8>
    private let stack: UnsafeMutablePointer<UInt64>
    private(set) var freeCount: Int

    /// Assigns the frames `firstFrame ..< firstFrame + frameCount`: the first `reserve` to the free
    /// stack, the rest split evenly over `ports` fill rings (port i gets a contiguous block).
    init(firstFrame: Int = 0, frameCount: Int, frameSize: Int, reserve: Int, ports: Int) {
        precondition(frameSize.nonzeroBitCount == 1 && frameCount > reserve && ports >= 1 && ports <= 2)
        precondition(firstFrame % frameCount == 0, "workers own equal, aligned shares of the UMEM")
        self.frameCount = frameCount
        self.firstFrame = firstFrame
        self.frameSize = UInt64(frameSize)
        self.frameShift = UInt64(frameSize.trailingZeroBitCount)
        unsafe homes = .allocate(capacity: frameCount)
        unsafe stack = .allocate(capacity: frameCount)
        freeCount = 0
        let perPort = (frameCount - reserve) / ports
        for frame in 0..<frameCount {
            let home: UInt8
            if frame < reserve {
                home = FramePool.stackHome
                unsafe stack[freeCount] = UInt64(firstFrame + frame) << frameShift
                freeCount += 1
            } else {
                home = UInt8(Swift.min((frame - reserve) / Swift.max(perPort, 1), ports - 1))
            }
            unsafe (homes + frame).initialize(to: home)
        }
    }

    deinit {
        unsafe homes.deallocate()
        unsafe stack.deallocate()
    }

    /// The start of the frame (chunk) holding a UMEM address (aligned mode: the low bits are an offset).
    @inline(__always)
    func base(of address: UInt64) -> UInt64 { address & ~(frameSize &- 1) }

    /// The home of the frame holding `address`: a port index, `stackHome`, or `foreignHome`.
    @inline(__always)
    func home(of address: UInt64) -> UInt8 {
        let frame = Int(truncatingIfNeeded: address >> frameShift) &- firstFrame
        guard frame >= 0, frame < frameCount else { return FramePool.foreignHome }
        return unsafe homes[frame]
    }

    /// The worker that owns the frame holding `address` (every worker owns `frameCount` frames).
    @inline(__always)
    func owner(of address: UInt64) -> Int { Int(truncatingIfNeeded: address >> frameShift) / frameCount }

    /// Base addresses of the frames whose home is `port`, for the initial fill.
    func frames(homedAt port: UInt8) -> [UInt64] {
        (0..<frameCount).filter { unsafe homes[$0] == port }.map { UInt64(firstFrame + $0) << frameShift }
    }

    /// Takes a free frame for generated output, or nil when all are in flight.
    @inline(__always)
    mutating func pop() -> UInt64? {
        guard freeCount > 0 else { return nil }
        freeCount &-= 1
        return unsafe stack[freeCount]
    }

    /// Returns a generated-output frame to the stack (also a foreign frame that could not be given back:
    /// used for output, it finds its way home at its next completion).
    @inline(__always)
    mutating func push(_ address: UInt64) {
        guard freeCount < frameCount else { return }
        unsafe stack[freeCount] = base(of: address)
        freeCount &+= 1
    }
}
