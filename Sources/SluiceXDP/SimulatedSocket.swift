// Test support: an AF_XDP socket whose four rings are SimulatedRings and whose UMEM is plain heap memory,
// so WorkerCore can be driven without a kernel (fd -1: no syscalls). The test plays the kernel through the
// rings' kernelProduce/kernelConsume and reads or writes frame bytes through `SimulatedUmem`, all without
// touching a pointer itself.

import SluiceCore

#if canImport(Glibc)
    import Glibc
#endif

/// Heap memory standing in for a UMEM.
@safe
final class SimulatedUmem {
    let frameSize: Int
    let frameCount: Int
    let area: UnsafeMutableRawPointer

    init(frameSize: Int, frameCount: Int) {
        self.frameSize = frameSize
        self.frameCount = frameCount
        unsafe area = .allocate(byteCount: frameSize * frameCount, alignment: 4096)
        unsafe area.initializeMemory(as: UInt8.self, repeating: 0, count: frameSize * frameCount)
    }

    deinit { unsafe area.deallocate() }

    /// Writes bytes at a UMEM address (as the kernel does on receive).
    func write(_ bytes: [UInt8], at address: UInt64) {
        precondition(Int(address) + bytes.count <= frameSize * frameCount)
        for (offset, byte) in bytes.enumerated() {
            unsafe area.storeBytes(of: byte, toByteOffset: Int(address) + offset, as: UInt8.self)
        }
    }

    /// Reads bytes at a UMEM address (as the kernel does on transmit).
    func read(at address: UInt64, count: Int) -> [UInt8] {
        precondition(Int(address) + count <= frameSize * frameCount)
        return (0..<count).map { unsafe area.load(fromByteOffset: Int(address) + $0, as: UInt8.self) }
    }
}

/// Four simulated rings forming one socket.
final class SimulatedSocket {
    let rx: SimulatedRing
    let tx: SimulatedRing
    let fill: SimulatedRing
    let completion: SimulatedRing

    /// - Parameters:
    ///   - ringSize: rx and tx entries.
    ///   - fillSize: fill and completion entries (≥ the frames homed here).
    ///   - start: initial ring index, to exercise wrap-around.
    init(ringSize: UInt32 = 64, fillSize: UInt32 = 64, start: UInt32 = 0) {
        rx = SimulatedRing(kind: .consumer, size: ringSize, descriptors: true, start: start)
        tx = SimulatedRing(kind: .producer, size: ringSize, descriptors: true, start: start)
        fill = SimulatedRing(kind: .producer, size: fillSize, descriptors: false, start: start)
        completion = SimulatedRing(kind: .consumer, size: fillSize, descriptors: false, start: start)
    }

    func port(side: Side) -> XSKPort {
        unsafe XSKPort(
            rx: RxRing(rx.consumerRing), tx: TxRing(tx.producerRing), fill: FillRing(fill.producerRing),
            completion: CompletionRing(completion.consumerRing), fd: -1, side: side)
    }
}

extension WorkerCore where Processor: ~Copyable {
    /// A core over simulated sockets and memory (tests). With a mesh, the core is worker `worker` of
    /// the mesh and owns its equal share of `memory`.
    init(
        processor: consuming Processor, memory: SimulatedUmem, external: SimulatedSocket,
        internal internalSocket: SimulatedSocket?, reserve: Int, resolver: NeighbourResolver = .none,
        handOff: HandOffMesh? = nil, worker: Int = 0
    ) {
        let share = memory.frameCount / (handOff?.workerCount ?? 1)
        unsafe self.init(
            processor: processor, network: NetworkView(), area: memory.area, frameSize: memory.frameSize,
            frameCount: share, firstFrame: worker * share, areaFrames: memory.frameCount,
            external: external.port(side: .external), internal: internalSocket?.port(side: .internal), reserve: reserve,
            resolver: resolver, handOff: handOff?.end(of: worker),
            owners: [memory, external] + (internalSocket.map { [$0] } ?? []) + (handOff.map { [$0] } ?? []))
    }
}

extension WorkerCore where Processor: ~Copyable {
    /// True when a peer has written this worker's eventfd and nobody has read it yet (tests).
    var wakeupPending: Bool {
        let fd = wakeupDescriptor
        guard fd >= 0 else { return false }
        var polled = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return unsafe poll(&polled, 1, 0) == 1
    }
}
