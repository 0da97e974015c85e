// The runtime's SYN answering with a real client (root only; namespaces sx-xr-*): a kernel client's
// connect() to a SYN-proxied VIP completes against the cookie SYN-ACK the steering program sends, and the
// worker accepts the client's ACK, so XDP and the workers share the key and the clock; after a key rotation
// the workers hold the new key before the program uses it. In native mode on veth, XDP_TX needs a native
// XDP program on the peer: without one the workers answer instead, with one the program does.

import Foundation
import SluiceCore
import SluicePacket
import Testing

@testable import SluiceXDP

@Suite(.serialized, .enabled(if: Lab.isRoot, "needs root for namespaces and XDP"))
struct RuntimeSynAnswerTests {
    let lab = Lab("xr")

    private static let configuration = DataplaneConfiguration(
        services: [
            VirtualServiceConfiguration(
                name: "web", vip: IPAddress(v4: 0x0A4D_0909), port: 80, transport: .tcp, scheduler: .rr,
                localAddresses: [IPAddress(v4: 0x0A4D_0101)], synProxy: true,
                realServers: [RealServerConfiguration(address: IPAddress(v4: 0x0A4D_0102), port: 8080, weight: 1)])
        ], localPortRange: 30000...40000, connectionCapacity: 1024)

    /// connect() from the client namespace; true when the handshake completed.
    private func connects() throws -> Bool {
        let script =
            "import socket\ntry:\n    socket.create_connection(('10.77.9.9', 80), timeout=5).close()\n"
            + "    print('connected')\nexcept OSError as e:\n    print('failed', e)\n"
        return try Lab.run("ip", "netns", "exec", lab.client, "python3", "-c", script).hasPrefix("connected")
    }

    /// Waits until the workers have counted `count` valid cookie ACKs.
    private static func validACKs(_ runtime: DataPlaneRuntime, atLeast count: UInt64) -> UInt64 {
        let deadline = Date().addingTimeInterval(3)
        while runtime.counters()[.synProxyAcksValid] < count && Date() < deadline { usleep(20_000) }
        return runtime.counters()[.synProxyAcksValid]
    }

    @Test func xdpAnswersAndWorkersAcceptAcrossARotation() throws {
        try lab.create()
        defer { lab.destroy() }
        let outcome = try lab.inGateway {
            () throws -> (
                connected: [Bool], valid: [UInt64], answered: UInt64, answering: UInt64, generations: [UInt64]
            )
            in
            let runtime = try DataPlaneRuntime(
                options: DataPlaneOptions(externalInterface: "sxg0", mode: .skb, frameCount: 512),
                configuration: Self.configuration, network: .constant(NetworkView()))
            defer { runtime.stop() }
            try runtime.start()
            var connected = [try connects()]
            var valid = [Self.validACKs(runtime, atLeast: 1)]
            // The cookie-key service's three steps, here without its clock.
            let generation = runtime.publishCookieKey()
            let deadline = ContinuousClock.now + .seconds(1)
            while !runtime.workersHoldCookieKey(generation) && ContinuousClock.now < deadline {
                Thread.sleep(forTimeInterval: 0.001)
            }
            try runtime.installCookieKeyInPrograms()
            let generations = runtime.cookieKeyGenerations()
            connected.append(try connects())
            valid.append(Self.validACKs(runtime, atLeast: valid[0] + 1))
            let stats = try runtime.xdpStats()
            return (connected, valid, stats["syn_answered"] ?? 0, stats["syn_answering"] ?? 0, generations)
        }
        #expect(outcome.connected == [true, true])
        // At least: a SYN retransmitted on a slow machine is answered (and its ACK counted) again.
        #expect(outcome.valid[0] >= 1 && outcome.valid[1] >= outcome.valid[0] + 1)
        #expect(outcome.answered >= 2)
        #expect(outcome.answering == 1)
        #expect(outcome.generations == [1])
    }

    /// A runtime in native mode on sxg0 that knows the way back to the client (so its workers can answer
    /// SYNs too): connect once, report whether it worked and what the program did.
    private func nativeRun() throws -> (connected: Bool, answered: UInt64, answering: UInt64) {
        try lab.inGateway { () throws -> (connected: Bool, answered: UInt64, answering: UInt64) in
            let mirror = try NetlinkMirror()
            defer { mirror.stop() }
            let runtime = try DataPlaneRuntime(
                options: DataPlaneOptions(externalInterface: "sxg0", mode: .native, frameCount: 512),
                configuration: Self.configuration, network: NetworkViewSource(mirror))
            defer { runtime.stop() }
            try runtime.start()
            let connected = try connects()
            let stats = try runtime.xdpStats()
            return (connected, stats["syn_answered"] ?? 0, stats["syn_answering"] ?? 0)
        }
    }

    @Test(.enabled(if: Lab.hasXDPLoader, "needs xdp-loader for a program on the veth peer"))
    func nativeVethAnswersInXDPOnlyWhenThePeerHasAProgram() throws {
        try lab.create()
        defer { lab.destroy() }
        let before = try nativeRun()
        #expect(before.connected)  // answered by a worker
        #expect(before.answered == 0)
        #expect(before.answering == 0)

        try Lab.run(
            "ip", "netns", "exec", lab.client, "xdp-loader", "load", "-m", "native", "sxc0",
            "/usr/lib/x86_64-linux-gnu/bpf/xdpfilt_alw_all.o")
        let after = try nativeRun()
        #expect(after.connected)
        #expect(after.answered >= 1)
        #expect(after.answering == 1)
    }
}
