// The worker loop's ring handling on simulated rings (Firedancer test_xsk.c style): the test plays the
// kernel, moving fill → rx and tx → completion, and checks where every frame goes: forwarded by
// descriptor, recycled to the fill ring of the socket that received it, reserved frames for generated
// output, tx-full and oversize handling, wakeup kicks, and ring-index wrap-around.

import SluiceCore
import SluicePacket
import Synchronization
import Testing

@testable import SluiceXDP

/// The kernel's part: receive `count` frames on `socket` into buffers taken from its fill ring.
@discardableResult
private func kernelReceive(
    _ socket: SimulatedSocket, memory: SimulatedUmem, count: Int, headroom: UInt64 = 256, length: UInt32 = 60,
    marker: UInt8 = 0x45
) -> [UInt64] {
    let buffers = socket.fill.kernelConsume(limit: count)
    var addresses: [UInt64] = []
    for buffer in buffers {
        let address = buffer.address + headroom
        memory.write([marker], at: address)
        #expect(socket.rx.kernelProduce(address: address, length: length))
        addresses.append(address)
    }
    return addresses
}

/// The kernel's part: send everything on `socket`'s tx ring and report completions.
@discardableResult
private func kernelTransmit(_ socket: SimulatedSocket) -> [(address: UInt64, length: UInt32)] {
    let sent = socket.tx.kernelConsume()
    for frame in sent { #expect(socket.completion.kernelProduce(address: frame.address)) }
    return sent
}

@Suite struct WorkerCoreTests {
    let memory = SimulatedUmem(frameSize: 2048, frameCount: 64)

    @Test func initialFillSplitsFramesBetweenSocketsAndReserve() {
        let external = SimulatedSocket()
        let internalSocket = SimulatedSocket()
        let core = WorkerCore(
            processor: ScriptedProcessor(), memory: memory, external: external, internal: internalSocket,
            reserve: 16)
        #expect(external.fill.occupancy == 24)
        #expect(internalSocket.fill.occupancy == 24)
        #expect(core.pool.freeCount == 16)
        let externalFrames = Set(external.fill.kernelConsume().map(\.address))
        let internalFrames = Set(internalSocket.fill.kernelConsume().map(\.address))
        #expect(externalFrames.isDisjoint(with: internalFrames))
        #expect(externalFrames.allSatisfy { $0 % 2048 == 0 && $0 >= 16 * 2048 })
    }

    @Test func forwardsByDescriptorAndRecyclesCompletionsToTheReceiver() {
        let external = SimulatedSocket()
        let internalSocket = SimulatedSocket()
        var processor = ScriptedProcessor()
        processor.verdict = .transmit(.internal)
        var core = WorkerCore(
            processor: processor, memory: memory, external: external, internal: internalSocket, reserve: 16)
        let received = kernelReceive(external, memory: memory, count: 5)

        #expect(core.runOnce(now: 1) == 5)
        #expect(external.rx.occupancy == 0)
        #expect(core.processor.seen.count == 5)
        #expect(core.processor.seen.allSatisfy { $0.side == .external && $0.length == 60 && $0.firstByte == 0x45 })
        #expect(core.processor.seen.allSatisfy { $0.capacity == 2048 - 256 })
        let sent = kernelTransmit(internalSocket)
        #expect(sent.map(\.address) == received)  // same frames: nothing copied
        #expect(sent.allSatisfy { $0.length == 60 })
        #expect(received.allSatisfy { memory.read(at: $0, count: 1) == [0xAB] })  // rewritten in place
        #expect(external.fill.occupancy == 19)

        #expect(core.runOnce(now: 2) == 5)
        // Completed on the internal socket, returned to the external fill ring (the receiver).
        #expect(external.fill.occupancy == 24)
        #expect(internalSocket.fill.occupancy == 24)
        let quiescent = core.isQuiescent
        #expect(quiescent)
    }

    @Test func dropReturnsTheFrameToItsFillRingAtOnce() {
        let external = SimulatedSocket()
        let internalSocket = SimulatedSocket()
        var core = WorkerCore(
            processor: ScriptedProcessor(), memory: memory, external: external, internal: internalSocket,
            reserve: 16)
        let received = kernelReceive(internalSocket, memory: memory, count: 3)
        #expect(core.runOnce(now: 1) == 3)
        #expect(core.processor.seen.allSatisfy { $0.side == .internal })
        #expect(internalSocket.fill.occupancy == 24)
        #expect(external.tx.occupancy == 0 && internalSocket.tx.occupancy == 0)
        let refilled = internalSocket.fill.kernelConsume().map(\.address)
        #expect(Set(received.map { $0 - 256 }).isSubset(of: Set(refilled)))  // frame base, headroom stripped
    }

    @Test func fullTxRingCountsAndRecycles() {
        let external = SimulatedSocket()
        let internalSocket = SimulatedSocket(ringSize: 4)
        var processor = ScriptedProcessor()
        processor.verdict = .transmit(.internal)
        var core = WorkerCore(
            processor: processor, memory: memory, external: external, internal: internalSocket, reserve: 16)
        kernelReceive(external, memory: memory, count: 6)
        #expect(core.runOnce(now: 1) == 6)
        #expect(internalSocket.tx.occupancy == 4)
        #expect(core.processor.counters[.txRingFull] == 2)
        #expect(external.fill.occupancy == 24 - 6 + 2)
    }

    @Test func kicksTxOnlyWhileTheKernelAsksAndHasFramesToTake() {
        let external = SimulatedSocket()
        var processor = ScriptedProcessor()
        processor.verdict = .transmit(.external)
        var core = WorkerCore(processor: processor, memory: memory, external: external, internal: nil, reserve: 16)
        kernelReceive(external, memory: memory, count: 2)
        _ = core.runOnce(now: 1)
        #expect(core.txKicks == 0)  // flag clear: no syscall

        external.tx.setNeedsWakeup(true)
        kernelReceive(external, memory: memory, count: 2)
        _ = core.runOnce(now: 2)
        #expect(core.txKicks == 1)
        _ = core.runOnce(now: 3)  // still outstanding: kick again (copy mode sends ~32 per kick)
        #expect(core.txKicks == 2)

        // Taken by the kernel but not completed yet: nothing left to send, so no kick.
        let taken = external.tx.kernelConsume()
        #expect(taken.count == 4)  // both rounds' frames
        _ = core.runOnce(now: 4)
        #expect(core.txKicks == 2)
        let waiting = core.isQuiescent
        #expect(!waiting)  // still outstanding until the completions come
        for frame in taken { #expect(external.completion.kernelProduce(address: frame.address)) }
        _ = core.runOnce(now: 4)
        let quiescent = core.isQuiescent
        #expect(quiescent)
        _ = core.runOnce(now: 5)
        #expect(core.txKicks == 2)  // nothing outstanding: no more kicks
    }

    @Test func wakesTheFillRingWhenAsked() {
        let external = SimulatedSocket()
        var core = WorkerCore(
            processor: ScriptedProcessor(), memory: memory, external: external, internal: nil, reserve: 16)
        _ = core.runOnce(now: 1)
        #expect(core.fillWakeups == 0)
        external.fill.setNeedsWakeup(true)
        _ = core.runOnce(now: 2)
        #expect(core.fillWakeups == 1)
    }

    @Test func singleSocketServesBothSides() {
        let shared = SimulatedSocket()
        var processor = ScriptedProcessor()
        processor.verdict = .transmit(.internal)
        var core = WorkerCore(processor: processor, memory: memory, external: shared, internal: nil, reserve: 16)
        #expect(shared.fill.occupancy == 48)
        let received = kernelReceive(shared, memory: memory, count: 4)
        _ = core.runOnce(now: 1)
        #expect(core.processor.seen.allSatisfy { $0.side == .external })
        #expect(kernelTransmit(shared).map(\.address) == received)
        _ = core.runOnce(now: 2)
        #expect(shared.fill.occupancy == 48)
    }

    @Test func generatedOutputUsesReservedFramesThatReturnToTheStack() {
        let external = SimulatedSocket()
        let internalSocket = SimulatedSocket()
        var processor = ScriptedProcessor()
        let frame = (0..<60).map { UInt8($0) }
        processor.output = [(frame, .internal), (Array(repeating: 0xFF, count: 4000), .external)]
        var core = WorkerCore(
            processor: processor, memory: memory, external: external, internal: internalSocket, reserve: 16)
        #expect(core.runOnce(now: 1) == 1)
        #expect(core.processor.output.isEmpty)
        #expect(core.processor.counters[.noRoom] == 1)  // 4000 bytes do not fit a 2048-byte frame
        let sent = kernelTransmit(internalSocket)
        #expect(sent.count == 1)
        #expect(sent[0].length == 60 && sent[0].address < 16 * 2048)
        #expect(memory.read(at: sent[0].address, count: 60) == frame)
        #expect(core.pool.freeCount == 15)
        _ = core.runOnce(now: 2)
        #expect(core.pool.freeCount == 16)
        #expect(external.fill.occupancy == 24 && internalSocket.fill.occupancy == 24)
    }

    @Test func frameMayGrowUpToTheEndOfItsChunkButNoFurther() {
        let external = SimulatedSocket()
        var processor = ScriptedProcessor()
        processor.verdict = .transmit(.external)
        processor.rewriteLength = 2048 - 256
        var core = WorkerCore(processor: processor, memory: memory, external: external, internal: nil, reserve: 16)
        kernelReceive(external, memory: memory, count: 1)
        _ = core.runOnce(now: 1)
        #expect(kernelTransmit(external).map(\.length) == [2048 - 256])

        core.processor.rewriteLength = 2048 - 255
        kernelReceive(external, memory: memory, count: 1)
        _ = core.runOnce(now: 2)
        #expect(external.tx.occupancy == 0)
        #expect(core.processor.counters[.noRoom] == 1)
    }

    @Test func ringIndicesWrapAround() {
        let external = SimulatedSocket(start: UInt32.max - 3)
        let internalSocket = SimulatedSocket(start: UInt32.max - 1)
        var processor = ScriptedProcessor()
        processor.verdict = .transmit(.internal)
        var core = WorkerCore(
            processor: processor, memory: memory, external: external, internal: internalSocket, reserve: 16)
        for round in 0..<4 {
            let received = kernelReceive(external, memory: memory, count: 7)
            _ = core.runOnce(now: UInt64(round))
            #expect(kernelTransmit(internalSocket).map(\.address) == received)
            _ = core.runOnce(now: UInt64(round))
            #expect(external.fill.occupancy == 24)
        }
        #expect(core.processor.seen.count == 28)
    }

    @Test func resolutionsGoToTheResolverOncePerBatch() {
        let requests = Mutex<[Int32]>([])
        let resolver = NeighbourResolver { _, interfaceIndex in requests.withLock { $0.append(interfaceIndex) } }
        var processor = ScriptedProcessor()
        processor.resolutions = [(IPAddress(v4: 0x0A02_0002), 7), (IPAddress(v4: 0x0A02_0003), 7)]
        var core = WorkerCore(
            processor: processor, memory: memory, external: SimulatedSocket(), internal: nil, reserve: 16,
            resolver: resolver)
        _ = core.runOnce(now: 1)
        _ = core.runOnce(now: 2)
        #expect(requests.withLock { $0 } == [7, 7])
    }
}
