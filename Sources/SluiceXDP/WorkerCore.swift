// The body of a worker's hot loop: one iteration moves every ring of the worker's one or two sockets
// (docs/afxdp.md §3), in this order:
//   1. completions → home fill ring / free stack (FramePool: "a frame returns to whoever received it");
//   2. rx, in batches of 64 → Dataplane.process on a MutableSpan over the frame, then the descriptor
//      (same address, new length) goes to the tx ring of the verdict's side, or home on drop;
//   3. frames the data plane generated → copied into free-stack frames → tx;
//   4. neighbour resolutions → the resolver hook (batch level);
//   5. publish: submit fill and tx slots once per ring, kick tx with sendto while it needs a wakeup
//      (copy mode needs a kick for every tx, and the kernel sends ~32 per kick, so kick while frames are
//      outstanding), wake the fill ring when it asks.
// With several workers (HandOffMesh.swift) step 1 also takes back own frames that peers are done with,
// step 2 also takes the frames peers handed over (they carry their arrival side and are never handed on
// again), a `.handOff` verdict queues the descriptor to the owner, a foreign frame goes back to its owner
// instead of a fill ring, and step 5 publishes the hand-off rings and wakes a sleeping peer.
//
// Frames are never copied on the forward path: rx(A) → tx(B) passes the descriptor. Ring indices are
// free-running UInt32 that wrap; all arithmetic on them is &+ / &-.
//
// This is a ~Copyable struct of pointers, integers and the data plane, owned by the worker thread: no
// locks, no reference counting, no allocation per packet. It is generic so tests can drive it with a
// scripted processor over SimulatedRing memory; the runtime instantiates it with `Dataplane` in this
// module, where it is specialised.

import CXDP
import SluiceCore
import SluicePacket

#if canImport(Glibc)
    import Glibc
#endif

/// A worker's rings, frames and data plane, advanced by `runOnce`.
@safe
struct WorkerCore<Processor: FrameProcessor & ~Copyable>: ~Copyable {
    /// Frames taken from an rx ring per peek.
    static var batchSize: UInt32 { 64 }
    /// Completions taken per peek.
    static var completionBatch: UInt32 { 256 }

    var processor: Processor
    var network: NetworkView
    var pool: FramePool
    private var port0: XSKPort
    private var port1: XSKPort
    /// 1 when one socket serves both sides, else 2.
    let portCount: Int
    private let area: UnsafeMutableRawPointer
    private let areaSize: UInt64
    /// The links to the other workers; `peerCount` is 0 without a mesh.
    private let handOff: HandOffEnd?
    private let peerCount: Int
    private let peers: UnsafeMutablePointer<HandOffPeer>?
    private let workerIndex: Int
    private let resolver: NeighbourResolver
    /// The objects owning the memory the pointers above point into (sockets, UMEM), kept alive with the core.
    private let owners: [AnyObject]
    /// sendto kicks issued (or that would have been, for simulated rings).
    private(set) var txKicks: UInt64 = 0
    /// recvfrom wakeups of a fill ring.
    private(set) var fillWakeups: UInt64 = 0

    /// - Parameters:
    ///   - area: the UMEM (areaFrames × frameSize bytes, this worker owning frameCount of them from
    ///     firstFrame).
    ///   - handOff: this worker's end of the hand-off mesh, nil for a single worker.
    ///   - external: the external socket's port.
    ///   - internal: the internal socket's port, or nil when the external socket serves both sides.
    ///   - reserve: frames kept on the free stack for generated output.
    ///   - owners: the objects that own the rings and memory; held for the core's lifetime.
    init(
        processor: consuming Processor, network: NetworkView, area: UnsafeMutableRawPointer, frameSize: Int,
        frameCount: Int, firstFrame: Int = 0, areaFrames: Int? = nil, external: XSKPort,
        internal internalPort: XSKPort?,
        reserve: Int, resolver: NeighbourResolver, handOff: HandOffEnd? = nil, owners: [AnyObject]
    ) {
        self.owners = owners
        self.processor = processor
        self.network = network
        unsafe self.area = area
        self.areaSize = UInt64(frameSize) * UInt64(areaFrames ?? frameCount)
        unsafe self.handOff = handOff
        self.peerCount = unsafe handOff?.workerCount ?? 0
        unsafe self.peers = handOff?.peers
        self.workerIndex = unsafe handOff?.worker ?? 0
        self.resolver = resolver
        self.portCount = internalPort == nil ? 1 : 2
        self.port0 = external
        self.port1 = internalPort ?? external
        self.pool = FramePool(
            firstFrame: firstFrame, frameCount: frameCount, frameSize: frameSize, reserve: reserve, ports: portCount)
        for port in 0..<portCount {
            for frame in pool.frames(homedAt: UInt8(port)) { enqueueFill(port: port, address: frame) }
            publish(port: port)
        }
    }

    /// True when no transmitted frame awaits completion and nothing is staged: safe to sleep in poll().
    var isQuiescent: Bool {
        port0.txOutstanding == 0 && port1.txOutstanding == 0 && port0.txPending == 0 && port1.txPending == 0
    }

    /// The eventfd peers write to wake this worker, or -1 without a mesh.
    var wakeupDescriptor: Int32 { unsafe handOff?.eventFD ?? -1 }

    /// Announces that the worker is about to sleep in poll(); false (and not asleep) when a peer already
    /// published something, so the worker must not sleep. See HandOffMesh.swift for the protocol.
    mutating func prepareToSleep() -> Bool {
        guard let handOff = unsafe handOff, let peers = unsafe peers else { return true }
        unsafe cxdp_store_seq_cst(handOff.asleep, 1)
        cxdp_fence_seq_cst()
        var peer = 0
        while peer < peerCount {
            if peer != workerIndex, unsafe peers[peer].hasWaiting {
                unsafe cxdp_store_seq_cst(handOff.asleep, 0)
                return false
            }
            peer &+= 1
        }
        return true
    }

    /// Clears the asleep word after poll() and empties the eventfd.
    mutating func wokeUp() {
        guard let handOff = unsafe handOff else { return }
        unsafe cxdp_store_seq_cst(handOff.asleep, 0)
        var value: UInt64 = 0
        _ = unsafe read(handOff.eventFD, &value, MemoryLayout<UInt64>.size)
    }

    /// The fds to poll when idle (the same fd twice when one socket serves both sides).
    var fileDescriptors: (Int32, Int32) { (port0.fd, port1.fd) }

    /// One pass over every ring. Returns the number of frames moved (0 = idle).
    mutating func runOnce(now: UInt64) -> Int {
        var work = reclaimCompletions(port: 0)
        if portCount == 2 { work &+= reclaimCompletions(port: 1) }
        if peerCount > 0 { work &+= reclaimReturns() }
        work &+= receive(port: 0, now: now)
        if portCount == 2 { work &+= receive(port: 1, now: now) }
        if peerCount > 0 { work &+= receiveHandOffs(now: now) }
        if processor.pendingOutputCount > 0 { work &+= sendGeneratedOutput() }
        if processor.pendingResolutionCount > 0 { requestResolutions() }
        publish(port: 0)
        if portCount == 2 { publish(port: 1) }
        if peerCount > 0 { publishHandOffs() }
        return work
    }

    // MARK: - Steps

    /// Step 1: completed tx frames go home.
    private mutating func reclaimCompletions(port: Int) -> Int {
        let completion = port == 0 ? port0.completion : port1.completion
        let (count, first) = completion.peek(upTo: Self.completionBatch)
        guard count > 0 else { return 0 }
        var offset: UInt32 = 0
        while offset < count {
            recycle(completion.address(first &+ offset))  // ring index wraps
            offset &+= 1
        }
        completion.release(count)
        if port == 0 {
            port0.txOutstanding &-= Swift.min(count, port0.txOutstanding)
        } else {
            port1.txOutstanding &-= Swift.min(count, port1.txOutstanding)
        }
        return Int(count)
    }

    /// Step 2: one batch from a socket's rx ring through the data plane.
    private mutating func receive(port: Int, now: UInt64) -> Int {
        let rx = port == 0 ? port0.rx : port1.rx
        let side = port == 0 ? port0.side : port1.side
        let (count, first) = rx.peek(upTo: Self.batchSize)
        guard count > 0 else {
            wakeFillIfNeeded(port: port)
            return 0
        }
        var offset: UInt32 = 0
        while offset < count {
            let descriptor = rx.descriptor(first &+ offset)  // ring index wraps
            handle(address: descriptor.address, length: descriptor.length, from: side, now: now, handedOff: false)
            offset &+= 1
        }
        rx.release(count)
        return Int(count)
    }

    /// Step 1 with peers: own frames the peers have sent or dropped go home.
    private mutating func reclaimReturns() -> Int {
        guard let peers = unsafe peers else { return 0 }
        var work = 0
        var peer = 0
        while peer < peerCount {
            if peer != workerIndex {
                let returned = unsafe peers[peer].returned
                let (count, first) = returned.peek(upTo: Self.completionBatch)
                var offset: UInt32 = 0
                while offset < count {
                    recycle(returned.address(first &+ offset))  // ring index wraps
                    offset &+= 1
                }
                if count > 0 { returned.release(count) }
                work &+= Int(count)
            }
            peer &+= 1
        }
        return work
    }

    /// Step 2 with peers: one batch from each peer's frames ring through the data plane.
    private mutating func receiveHandOffs(now: UInt64) -> Int {
        guard let peers = unsafe peers else { return 0 }
        var work = 0
        var peer = 0
        while peer < peerCount {
            if peer != workerIndex {
                let incoming = unsafe peers[peer].incoming
                let (count, first) = incoming.peek(upTo: Self.batchSize)
                var offset: UInt32 = 0
                while offset < count {
                    let descriptor = incoming.descriptor(first &+ offset)  // ring index wraps
                    let side: Side =
                        incoming.options(first &+ offset) == Self.internalSideOption ? .internal : .external
                    processor.counters.count(.handOffsReceived)
                    handle(
                        address: descriptor.address, length: descriptor.length, from: side, now: now, handedOff: true)
                    offset &+= 1
                }
                if count > 0 { incoming.release(count) }
                work &+= Int(count)
            }
            peer &+= 1
        }
        return work
    }

    /// The options word of a hand-off descriptor for a frame received on the internal side.
    private static var internalSideOption: UInt32 { 1 }

    /// Runs the data plane on one received frame and routes the descriptor by verdict.
    @inline(__always)
    private mutating func handle(address: UInt64, length: UInt32, from side: Side, now: UInt64, handedOff: Bool) {
        let base = pool.base(of: address)
        let capacity = Int(truncatingIfNeeded: pool.frameSize &- (address &- base))
        guard base < areaSize, Int(length) <= capacity else {
            processor.counters.count(.truncated)
            recycle(address)
            return
        }
        var frameLength = Int(length)
        let start = unsafe (area + Int(truncatingIfNeeded: address)).assumingMemoryBound(to: UInt8.self)
        var frame = unsafe MutableSpan(_unsafeElements: UnsafeMutableBufferPointer(start: start, count: capacity))
        let verdict = processor.process(
            frame: &frame, length: &frameLength, from: side, now: now, network: network, handedOff: handedOff)
        switch verdict {
        case .transmit(let out):
            guard frameLength > 0, frameLength <= capacity else {
                processor.counters.count(.noRoom)
                recycle(address)
                return
            }
            if !enqueueTx(port: portIndex(out), address: address, length: UInt32(frameLength)) {
                processor.counters.count(.txRingFull)
                recycle(address)
            }
        case .drop:
            recycle(address)
        case .handOff(let owner):
            // Only the data plane of a worker with peers hands off, and never a frame handed to it.
            guard !handedOff, owner >= 0, owner < peerCount, owner != workerIndex else {
                processor.counters.count(.wrongWorker)
                recycle(address)
                return
            }
            if stageHandOff(to: owner, address: address, length: length, side: side) {
                processor.counters.count(.handOffsSent)
            } else {
                processor.counters.count(.handOffFull)
                recycle(address)
            }
        }
    }

    /// Step 3: copies generated frames into free-stack frames and queues them for tx.
    private mutating func sendGeneratedOutput() -> Int {
        let count = processor.pendingOutputCount
        let frameSize = Int(pool.frameSize)
        let area = unsafe self.area
        var sent = 0
        var index = 0
        while index < count {
            guard let frame = pool.pop() else {
                for _ in index..<count { processor.counters.count(.txRingFull) }
                break
            }
            let (length, side) = processor.withPendingOutput(index) { bytes, side -> (Int, Side) in
                guard bytes.count > 0, bytes.count <= frameSize else { return (0, side) }
                unsafe bytes.withUnsafeBufferPointer { source in
                    unsafe (area + Int(frame)).copyMemory(from: source.baseAddress!, byteCount: source.count)
                }
                return (bytes.count, side)
            }
            if length == 0 {
                processor.counters.count(.noRoom)
                pool.push(frame)
            } else if enqueueTx(port: portIndex(side), address: frame, length: UInt32(length)) {
                sent &+= 1
            } else {
                processor.counters.count(.txRingFull)
                pool.push(frame)
            }
            index &+= 1
        }
        processor.clearPendingOutput()
        return sent
    }

    /// Step 4: hands unresolved next hops to the resolver.
    private mutating func requestResolutions() {
        var index = 0
        let count = processor.pendingResolutionCount
        while index < count {
            let request = processor.pendingResolution(index)
            resolver.requestResolution(address: request.address, interfaceIndex: request.interfaceIndex)
            index &+= 1
        }
        processor.clearPendingResolutions()
    }

    /// Step 5: publishes staged fill and tx slots and kicks the kernel where it asks.
    private mutating func publish(port: Int) {
        if port == 0 {
            WorkerCore.publish(&port0, kicks: &txKicks)
        } else {
            WorkerCore.publish(&port1, kicks: &txKicks)
        }
    }

    /// Step 5 with peers: publishes staged hand-offs and returns, and wakes a peer that sleeps.
    private mutating func publishHandOffs() {
        guard let peers = unsafe peers else { return }
        var peer = 0
        while peer < peerCount {
            if peer != workerIndex {
                let link = unsafe peers + peer
                var published = false
                if unsafe link.pointee.framesPending > 0 {
                    unsafe link.pointee.frames.submit(link.pointee.framesPending)
                    unsafe link.pointee.framesPending = 0
                    published = true
                }
                if unsafe link.pointee.returnsPending > 0 {
                    unsafe link.pointee.returns.submit(link.pointee.returnsPending)
                    unsafe link.pointee.returnsPending = 0
                    published = true
                }
                if published {
                    cxdp_fence_seq_cst()
                    if unsafe cxdp_load_seq_cst(link.pointee.peerAsleep) != 0 {
                        var one: UInt64 = 1
                        _ = unsafe write(link.pointee.peerEventFD, &one, MemoryLayout<UInt64>.size)
                    }
                }
            }
            peer &+= 1
        }
    }

    private static func publish(_ port: inout XSKPort, kicks: inout UInt64) {
        if port.fillPending > 0 {
            port.fill.submit(port.fillPending)
            port.fillPending = 0
        }
        if port.txPending > 0 {
            port.tx.submit(port.txPending)
            port.txOutstanding &+= port.txPending
            port.txPending = 0
        }
        // Kick only while the kernel has descriptors left to take: copy mode sends a batch (32) per
        // sendto and leaves the rest. Frames it took but has not completed yet (a veth peer frees them
        // when its NAPI runs) need no kick; a syscall for them was one per loop round for nothing.
        if port.txOutstanding > 0, port.tx.needsWakeup, port.tx.hasUnconsumed {
            kicks &+= 1
            if port.fd >= 0 { _ = sendto(port.fd, nil, 0, Int32(MSG_DONTWAIT), nil, 0) }
        }
    }

    private mutating func wakeFillIfNeeded(port: Int) {
        let fill = port == 0 ? port0.fill : port1.fill
        guard fill.needsWakeup else { return }
        fillWakeups &+= 1
        let fd = port == 0 ? port0.fd : port1.fd
        if fd >= 0 { _ = recvfrom(fd, nil, 0, Int32(MSG_DONTWAIT), nil, nil) }
    }

    // MARK: - Ring helpers

    @inline(__always)
    private func portIndex(_ side: Side) -> Int { side == .internal && portCount == 2 ? 1 : 0 }

    /// Returns a frame to its home: a fill ring, the free stack, or (a foreign frame) its owner.
    @inline(__always)
    private mutating func recycle(_ address: UInt64) {
        let home = pool.home(of: address)
        if home == FramePool.foreignHome {
            // A returns ring holds a worker's every frame, so this cannot fail; if it did, the frame
            // serves here as output memory and goes home after its next transmission.
            if !stageReturn(pool.base(of: address)) { pool.push(address) }
        } else if home == FramePool.stackHome {
            pool.push(address)
        } else if !enqueueFill(port: Int(home), address: pool.base(of: address)) {
            // Fill rings hold every frame homed there, so this only happens on a bug; keep the frame.
            pool.push(address)
        }
    }

    @inline(__always)
    @discardableResult
    private mutating func enqueueFill(port: Int, address: UInt64) -> Bool {
        if port == 0 { return WorkerCore.stageFill(&port0, address) }
        return WorkerCore.stageFill(&port1, address)
    }

    @inline(__always)
    private static func stageFill(_ port: inout XSKPort, _ address: UInt64) -> Bool {
        let (count, index) = port.fill.reserve(upTo: 1)
        guard count == 1 else { return false }
        port.fill.set(index, address: address)
        port.fillPending &+= 1
        return true
    }

    /// Queues a frame for its owner; false when the frames ring to it is full.
    @inline(__always)
    private mutating func stageHandOff(to owner: Int, address: UInt64, length: UInt32, side: Side) -> Bool {
        guard let peers = unsafe peers else { return false }
        let link = unsafe peers + owner
        let (count, index) = unsafe link.pointee.frames.reserve(upTo: 1)
        guard count == 1 else { return false }
        unsafe link.pointee.frames.set(
            index, address: address, length: length, options: side == .internal ? Self.internalSideOption : 0)
        unsafe link.pointee.framesPending &+= 1
        return true
    }

    /// Queues a foreign frame back to the worker that owns it.
    @inline(__always)
    private mutating func stageReturn(_ address: UInt64) -> Bool {
        let owner = pool.owner(of: address)
        guard let peers = unsafe peers, owner < peerCount, owner != workerIndex else { return false }
        let link = unsafe peers + owner
        let (count, index) = unsafe link.pointee.returns.reserve(upTo: 1)
        guard count == 1 else { return false }
        unsafe link.pointee.returns.set(index, address: address)
        unsafe link.pointee.returnsPending &+= 1
        return true
    }

    @inline(__always)
    private mutating func enqueueTx(port: Int, address: UInt64, length: UInt32) -> Bool {
        if port == 0 { return WorkerCore.stageTx(&port0, address, length) }
        return WorkerCore.stageTx(&port1, address, length)
    }

    @inline(__always)
    private static func stageTx(_ port: inout XSKPort, _ address: UInt64, _ length: UInt32) -> Bool {
        let (count, index) = port.tx.reserve(upTo: 1)
        guard count == 1 else { return false }
        port.tx.set(index, address: address, length: length)
        port.txPending &+= 1
        return true
    }
}
