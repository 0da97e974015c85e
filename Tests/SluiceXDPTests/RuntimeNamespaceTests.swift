// DataPlaneRuntime end to end on veth (root only): attach on both interfaces, workers receive steered
// traffic on their pinned threads, counters and heartbeats move, a configuration update changes the
// steering maps, and stop() leaves no program attached. The data plane itself is SluiceCore's; these
// tests only require that frames reached it (its counters moved), not what it decided.

import Foundation
import SluiceCore
import SluicePacket
import Testing

@testable import SluiceXDP

@Suite(.serialized, .enabled(if: Lab.isRoot, "needs root for namespaces and XDP"))
struct RuntimeNamespaceTests {
    let lab = Lab("rt")

    private static func configuration(port: UInt16) -> DataplaneConfiguration {
        DataplaneConfiguration(
            services: [
                VirtualServiceConfiguration(
                    name: "udp", vip: IPAddress(v4: 0x0A4D_0909), port: port, transport: .udp, scheduler: .rr,
                    localAddresses: [IPAddress(v4: 0x0A4D_0101)],
                    realServers: [RealServerConfiguration(address: IPAddress(v4: 0x0A4D_0102), port: port, weight: 1)])
            ], localPortRange: 30000...40000, connectionCapacity: 1024)
    }

    private static func total(_ counters: Counters) -> UInt64 {
        counters.drops.reduce(0, &+) &+ counters.events.reduce(0, &+)
    }

    @Test func runsWorkersAndDetachesOnStop() throws {
        try lab.create(withServer: true)
        defer { lab.destroy() }
        let outcome = try lab.inGateway {
            () throws -> (stats: [String: UInt64], counted: UInt64, beats: Bool, updated: [String: UInt64]) in
            let runtime = try DataPlaneRuntime(
                options: DataPlaneOptions(
                    externalInterface: "sxg0", internalInterface: "sxg1", mode: .skb, frameCount: 1024),
                configuration: Self.configuration(port: 5000), network: .constant(NetworkView()))
            defer { runtime.stop() }
            #expect(runtime.attachedMode == .skb)
            #expect(try lab.attachedProgram("sxg0")?.name == "sluice_steer")
            #expect(try lab.attachedProgram("sxg1")?.name == "sluice_steer")
            try runtime.start()
            let firstBeats = runtime.heartbeats()

            try lab.sendUDP(to: "10.77.9.9", port: 5000, count: 5)
            let deadline = Date().addingTimeInterval(3)
            while Self.total(runtime.counters()) < 5 && Date() < deadline { usleep(20_000) }
            let stats = try runtime.xdpStats()
            let counted = Self.total(runtime.counters())
            let beats = zip(firstBeats, runtime.heartbeats()).allSatisfy { $0 < $1 }

            // Move the service to another port: the old one goes back to the kernel.
            try runtime.update(configuration: Self.configuration(port: 6000))
            try lab.sendUDP(to: "10.77.9.9", port: 5000, count: 2)
            try lab.sendUDP(to: "10.77.9.9", port: 6000, count: 3)
            let updated = try runtime.xdpStats()
            #expect(runtime.stop().isEmpty)
            return (stats, counted, beats, updated)
        }
        #expect(outcome.stats["redirected_vip"] == 5)
        #expect(outcome.counted >= 5)
        #expect(outcome.beats)
        #expect(outcome.updated["redirected_vip"] == 8)
        #expect(outcome.updated["passed_no_match", default: 0] >= (outcome.stats["passed_no_match"] ?? 0) + 2)
        #expect(try lab.attachedProgram("sxg0") == nil)
        #expect(try lab.attachedProgram("sxg1") == nil)
    }

    @Test func singleInterfaceUsesOneProgramAndOneSocketPerQueue() throws {
        try lab.create()
        defer { lab.destroy() }
        let redirected = try lab.inGateway { () throws -> UInt64 in
            let runtime = try DataPlaneRuntime(
                options: DataPlaneOptions(externalInterface: "sxg0", mode: .auto, frameCount: 512),
                configuration: Self.configuration(port: 5000), network: .constant(NetworkView()))
            defer { runtime.stop() }
            #expect(runtime.internalInterface == runtime.externalInterface)
            try runtime.start()
            try lab.sendUDP(to: "10.77.9.9", port: 5000, count: 4)
            let deadline = Date().addingTimeInterval(3)
            while Self.total(runtime.counters()) < 4 && Date() < deadline { usleep(20_000) }
            return try runtime.xdpStats()["redirected_vip"] ?? 0
        }
        #expect(redirected == 4)
        #expect(try lab.attachedProgram("sxg0") == nil)
    }

    @Test func failedSetupLeavesNothingAttached() throws {
        try lab.create()
        defer { lab.destroy() }
        let message = try lab.inGateway { () -> String in
            do {
                // An impossible UMEM fails after the program was attached: it must be detached again.
                _ = try DataPlaneRuntime(
                    options: DataPlaneOptions(externalInterface: "sxg0", mode: .skb, frameCount: 100),
                    configuration: Self.configuration(port: 5000), network: .constant(NetworkView()))
                return "started"
            } catch {
                return "\(error)"
            }
        }
        #expect(message.contains("frame count 100"))
        #expect(try lab.attachedProgram("sxg0") == nil)
    }
}
