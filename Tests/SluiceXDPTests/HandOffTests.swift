// Hand-off between two workers on simulated rings (HandOffMesh.swift): the test plays the kernel for
// both workers' sockets over one shared memory. It checks that a frame goes to its owner by descriptor
// (the same UMEM address, nothing copied) with its arrival side, that every frame comes back to the
// fill ring of the worker that received it whether the owner sent or dropped it, that a full ring is
// counted back-pressure, that a frame is never handed on twice, and the sleep/wake protocol.

import SluiceCore
import SluicePacket
import Testing

@testable import SluiceXDP

/// Two workers sharing one memory and a mesh; worker 0 hands everything to worker 1.
private struct Pair: ~Copyable {
    static let frameSize = 2048
    static let framesPerWorker = 64
    static let reserve = 16

    let memory = SimulatedUmem(frameSize: frameSize, frameCount: 2 * framesPerWorker)
    let mesh: HandOffMesh
    let receiving = (external: SimulatedSocket(), internal: SimulatedSocket())
    let owning = (external: SimulatedSocket(), internal: SimulatedSocket())
    var first: WorkerCore<ScriptedProcessor>
    var second: WorkerCore<ScriptedProcessor>

    init(ringSize: UInt32 = 64, ownerVerdict: Verdict = .transmit(.internal)) throws {
        mesh = try HandOffMesh(workerCount: 2, framesPerWorker: Self.framesPerWorker, framesRingSize: ringSize)
        var handing = ScriptedProcessor()
        handing.verdict = .handOff(1)
        var owner = ScriptedProcessor()
        owner.verdict = ownerVerdict
        first = WorkerCore(
            processor: handing, memory: memory, external: receiving.external, internal: receiving.internal,
            reserve: Self.reserve, handOff: mesh, worker: 0)
        second = WorkerCore(
            processor: owner, memory: memory, external: owning.external, internal: owning.internal,
            reserve: Self.reserve, handOff: mesh, worker: 1)
    }

    /// Frames worker 0's external socket receives (taken from its fill ring, as the kernel does).
    func receive(_ count: Int, on socket: SimulatedSocket? = nil) -> [UInt64] {
        let socket = socket ?? receiving.external
        return socket.fill.kernelConsume(limit: count).map { buffer in
            let address = buffer.address + 256
            memory.write([0x45], at: address)
            #expect(socket.rx.kernelProduce(address: address, length: 60))
            return address
        }
    }
}

@Suite struct HandOffTests {
    let perSocket = UInt32((Pair.framesPerWorker - Pair.reserve) / 2)

    @Test func theOwnerSendsTheSameFrameAndItComesHome() throws {
        var pair = try Pair()
        #expect(pair.receiving.external.fill.occupancy == perSocket)
        let received = pair.receive(5)
        let fromInside = pair.receive(2, on: pair.receiving.internal)
        #expect(pair.first.runOnce(now: 1) == 7)
        #expect(pair.first.processor.counters[.handOffsSent] == 7)
        #expect(pair.receiving.external.fill.occupancy == perSocket - 5)

        #expect(pair.second.runOnce(now: 1) == 7)
        #expect(pair.second.processor.counters[.handOffsReceived] == 7)
        #expect(pair.second.processor.seen.allSatisfy { $0.handedOff })
        #expect(
            pair.second.processor.seen.map(\.side) == Array(repeating: .external, count: 5) + [.internal, .internal])
        // The scripted processor of worker 0 marked each frame (0xAB): the owner sees that very memory.
        #expect(pair.second.processor.seen.allSatisfy { $0.firstByte == 0xAB && $0.length == 60 })
        // Sent from the owner's socket, the very frames worker 0 received: nothing was copied.
        let sent = pair.owning.internal.tx.kernelConsume()
        #expect(sent.map(\.address) == received + fromInside)
        for frame in sent { #expect(pair.owning.internal.completion.kernelProduce(address: frame.address)) }

        // The owner's completion gives them back; worker 0 puts them on its own fill rings.
        #expect(pair.second.runOnce(now: 2) == 7)
        #expect(pair.owning.internal.fill.occupancy == perSocket)  // none of worker 0's frames stayed
        #expect(pair.first.runOnce(now: 2) == 7)
        #expect(pair.receiving.external.fill.occupancy == perSocket)
        #expect(pair.receiving.internal.fill.occupancy == perSocket)
        #expect(pair.first.processor.counters[.wrongWorker] == 0 && pair.second.processor.counters[.wrongWorker] == 0)
    }

    @Test func aFrameTheOwnerDropsComesHomeToo() throws {
        var pair = try Pair(ownerVerdict: .drop(.noConnection))
        _ = pair.receive(3)
        _ = pair.first.runOnce(now: 1)
        _ = pair.second.runOnce(now: 1)
        #expect(pair.owning.internal.tx.occupancy == 0)
        #expect(pair.first.runOnce(now: 2) == 3)
        #expect(pair.receiving.external.fill.occupancy == perSocket)
    }

    @Test func aFullRingIsCountedAndTheFrameStaysHome() throws {
        var pair = try Pair(ringSize: 8)
        _ = pair.receive(12)
        _ = pair.first.runOnce(now: 1)
        #expect(pair.first.processor.counters[.handOffsSent] == 8)
        #expect(pair.first.processor.counters[.handOffFull] == 4)
        // The four refused frames went straight back to the fill ring.
        #expect(pair.receiving.external.fill.occupancy == perSocket - 8)
        _ = pair.second.runOnce(now: 1)
        #expect(pair.second.processor.counters[.handOffsReceived] == 8)
    }

    @Test func aHandedFrameIsNeverHandedOnAgain() throws {
        var pair = try Pair(ownerVerdict: .handOff(0))
        _ = pair.receive(2)
        _ = pair.first.runOnce(now: 1)
        _ = pair.second.runOnce(now: 1)
        #expect(pair.second.processor.counters[.wrongWorker] == 2)
        #expect(pair.second.processor.counters[.handOffsSent] == 0)
        _ = pair.first.runOnce(now: 2)
        #expect(pair.receiving.external.fill.occupancy == perSocket)
    }

    @Test func aSleepingOwnerIsWokenAndAWaitingOneDoesNotSleep() throws {
        var pair = try Pair()
        let descriptor = pair.second.wakeupDescriptor
        #expect(descriptor >= 0)
        // Nothing waiting: worker 1 may sleep, and nobody wakes it.
        let asleep = pair.second.prepareToSleep()
        #expect(asleep)
        let woken1 = pair.second.wakeupPending
        #expect(!woken1)
        _ = pair.receive(1)
        _ = pair.first.runOnce(now: 1)
        let woken2 = pair.second.wakeupPending
        #expect(woken2)
        pair.second.wokeUp()
        let woken3 = pair.second.wakeupPending
        #expect(!woken3)
        // The frame is still waiting: no sleeping now.
        let sleepsAgain = pair.second.prepareToSleep()
        #expect(!sleepsAgain)
        _ = pair.second.runOnce(now: 1)
        // A busy worker 1 (not asleep) is not woken: no system call for it.
        _ = pair.receive(1)
        _ = pair.first.runOnce(now: 2)
        let woken4 = pair.second.wakeupPending
        #expect(!woken4)
    }
}
