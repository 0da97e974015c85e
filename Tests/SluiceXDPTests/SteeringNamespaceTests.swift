// The steering program and an AF_XDP socket on a real veth, in namespaces the test creates (root only;
// skipped otherwise). Covers: classification of every frame kind sluice_steer distinguishes (through
// BPF_PROG_TEST_RUN and the program's own counters), real traffic reaching the socket while the rest goes
// to the kernel, detach leaving nothing attached, and stale-program replacement.

import Foundation
import SluiceCore
import SluicePacket
import Testing

@testable import SluiceXDP

private let vip4: [UInt8] = [10, 77, 9, 9]
private let lip4: [UInt8] = [10, 77, 1, 1]
private let client4: [UInt8] = [10, 77, 0, 2]
private let server4: [UInt8] = [10, 77, 1, 2]
private let vip6: [UInt8] = [0xFD, 0, 0, 0x77] + Array(repeating: 0, count: 11) + [9]
private let lip6: [UInt8] = [0xFD, 0, 0, 0x77] + Array(repeating: 0, count: 11) + [1]
private let client6: [UInt8] = [0xFD, 0, 0, 0x77] + Array(repeating: 0, count: 11) + [2]

private func address4(_ bytes: [UInt8]) -> IPAddress {
    IPAddress(v4: bytes.reduce(0) { $0 << 8 | UInt32($1) })
}

private func address6(_ bytes: [UInt8]) -> IPAddress {
    IPAddress(
        v6High: bytes[0..<8].reduce(0) { $0 << 8 | UInt64($1) }, low: bytes[8..<16].reduce(0) { $0 << 8 | UInt64($1) })
}

/// One classification case: the frame, the counter it must move, the action it must get.
struct SteeringCase: Sendable, CustomTestStringConvertible {
    var name: String
    var frame: [UInt8]
    var counter: String
    var redirected: Bool
    var testDescription: String { name }
}

private let steeringCases: [SteeringCase] = {
    typealias F = SteeringFrames
    let udpToVIP = F.udp(source: 40000, destination: 5000)
    let quotedFromLIP = F.ipv4(source: lip4, destination: server4, protocol: 17, F.udp(source: 35000, destination: 53))
    let quotedFromLIPOutside = F.ipv4(
        source: lip4, destination: server4, protocol: 17, F.udp(source: 22, destination: 53))
    let quotedFromVIP = F.ipv4(
        source: vip4, destination: client4, protocol: 17, F.udp(source: 5000, destination: 40000))
    let quoted6FromLIP = F.ipv6(source: lip6, destination: client6, next: 6, F.tcp(source: 31000, destination: 80))
    return [
        SteeringCase(
            name: "UDP to VIP service",
            frame: F.ethernet(0x0800, F.ipv4(source: client4, destination: vip4, protocol: 17, udpToVIP)),
            counter: "redirected_vip", redirected: true),
        SteeringCase(
            name: "UDP to VIP behind 802.1Q",
            frame: F.ethernet(0x0800, F.ipv4(source: client4, destination: vip4, protocol: 17, udpToVIP), vlan: 42),
            counter: "redirected_vip", redirected: true),
        SteeringCase(
            name: "UDP to VIP with IPv4 options",
            frame: F.ethernet(0x0800, F.ipv4(source: client4, destination: vip4, protocol: 17, udpToVIP, options: 2)),
            counter: "redirected_vip", redirected: true),
        SteeringCase(
            name: "TCP to a UDP-only VIP port",
            frame: F.ethernet(
                0x0800, F.ipv4(source: client4, destination: vip4, protocol: 6, F.tcp(source: 40000, destination: 5000))
            ), counter: "passed_no_match", redirected: false),
        SteeringCase(
            name: "UDP to VIP, other port",
            frame: F.ethernet(
                0x0800,
                F.ipv4(source: client4, destination: vip4, protocol: 17, F.udp(source: 40000, destination: 5001))),
            counter: "passed_no_match", redirected: false),
        SteeringCase(
            name: "UDP to LIP inside the port range",
            frame: F.ethernet(
                0x0800, F.ipv4(source: server4, destination: lip4, protocol: 17, F.udp(source: 53, destination: 30000))),
            counter: "redirected_lip", redirected: true),
        SteeringCase(
            name: "TCP to LIP outside the port range (SSH)",
            frame: F.ethernet(
                0x0800, F.ipv4(source: server4, destination: lip4, protocol: 6, F.tcp(source: 50000, destination: 22))),
            counter: "passed_no_match", redirected: false),
        SteeringCase(
            name: "IPv4 first fragment to a VIP service",
            frame: F.ethernet(
                0x0800, F.ipv4(source: client4, destination: vip4, protocol: 17, udpToVIP, fragment: 0x2000)),
            counter: "redirected_fragment", redirected: true),
        SteeringCase(
            name: "IPv4 first fragment to VIP, other port",
            frame: F.ethernet(
                0x0800,
                F.ipv4(
                    source: client4, destination: vip4, protocol: 17, F.udp(source: 40000, destination: 5001),
                    fragment: 0x2000)), counter: "passed_fragment", redirected: false),
        SteeringCase(
            name: "IPv4 later fragment to a VIP address",
            frame: F.ethernet(
                0x0800, F.ipv4(source: client4, destination: vip4, protocol: 17, [1, 2, 3, 4], fragment: 0x0010)),
            counter: "redirected_fragment", redirected: true),
        SteeringCase(
            name: "IPv4 later fragment to a LIP",
            frame: F.ethernet(
                0x0800, F.ipv4(source: server4, destination: lip4, protocol: 6, [1, 2, 3, 4], fragment: 0x2010)),
            counter: "redirected_fragment", redirected: true),
        SteeringCase(
            name: "IPv4 later fragment to another address",
            frame: F.ethernet(
                0x0800, F.ipv4(source: client4, destination: server4, protocol: 17, [1, 2, 3, 4], fragment: 0x0010)),
            counter: "passed_fragment", redirected: false),
        SteeringCase(
            name: "IPv4 ICMP fragment to a VIP address",
            frame: F.ethernet(
                0x0800,
                F.ipv4(
                    source: client4, destination: vip4, protocol: 1, F.icmp(type: 8, [1, 2, 3, 4]), fragment: 0x2000)
            ), counter: "passed_fragment", redirected: false),
        SteeringCase(name: "ARP", frame: F.arp, counter: "passed_not_ip", redirected: false),
        SteeringCase(
            name: "ICMP echo to VIP",
            frame: F.ethernet(
                0x0800, F.ipv4(source: client4, destination: vip4, protocol: 1, F.icmp(type: 8, [1, 2, 3, 4]))),
            counter: "passed_no_match", redirected: false),
        SteeringCase(
            name: "ICMP unreachable to LIP about a data-plane port",
            frame: F.ethernet(
                0x0800, F.ipv4(source: server4, destination: lip4, protocol: 1, F.icmp(type: 3, code: 3, quotedFromLIP))
            ), counter: "redirected_icmp", redirected: true),
        SteeringCase(
            name: "ICMP unreachable to LIP about a kernel port",
            frame: F.ethernet(
                0x0800,
                F.ipv4(source: server4, destination: lip4, protocol: 1, F.icmp(type: 3, code: 3, quotedFromLIPOutside))),
            counter: "passed_no_match", redirected: false),
        SteeringCase(
            name: "ICMP time exceeded quoting a VIP service",
            frame: F.ethernet(
                0x0800,
                F.ipv4(source: [10, 77, 0, 254], destination: vip4, protocol: 1, F.icmp(type: 11, quotedFromVIP))),
            counter: "redirected_icmp", redirected: true),
        SteeringCase(
            name: "truncated IPv4 header", frame: F.ethernet(0x0800, [0x45, 0, 0, 20, 0, 0]), counter: "malformed",
            redirected: false),
        SteeringCase(
            name: "UDP to IPv6 VIP",
            frame: F.ethernet(0x86DD, F.ipv6(source: client6, destination: vip6, next: 17, udpToVIP)),
            counter: "redirected_vip", redirected: true),
        SteeringCase(
            name: "UDP to IPv6 VIP after hop-by-hop and destination options",
            frame: F.ethernet(
                0x86DD,
                F.ipv6(
                    source: client6, destination: vip6, next: 0,
                    F.extensionHeader(next: 60, F.extensionHeader(next: 17, udpToVIP)))), counter: "redirected_vip",
            redirected: true),
        SteeringCase(
            name: "IPv6 first fragment to a VIP service",
            frame: F.ethernet(
                0x86DD, F.ipv6(source: client6, destination: vip6, next: 44, F.fragmentHeader(next: 17, udpToVIP))),
            counter: "redirected_fragment", redirected: true),
        SteeringCase(
            name: "IPv6 later fragment to a VIP address",
            frame: F.ethernet(
                0x86DD,
                F.ipv6(
                    source: client6, destination: vip6, next: 44,
                    F.fragmentHeader(next: 17, offsetFlags: 0x0040, [1, 2, 3, 4, 5, 6, 7, 8]))),
            counter: "redirected_fragment", redirected: true),
        SteeringCase(
            name: "IPv6 later fragment to another address",
            frame: F.ethernet(
                0x86DD,
                F.ipv6(
                    source: vip6, destination: client6, next: 44,
                    F.fragmentHeader(next: 17, offsetFlags: 0x0041, [1, 2, 3, 4, 5, 6, 7, 8]))),
            counter: "passed_fragment", redirected: false),
        SteeringCase(
            name: "IPv6 atomic fragment to a VIP service",
            frame: F.ethernet(
                0x86DD,
                F.ipv6(
                    source: client6, destination: vip6, next: 44, F.fragmentHeader(next: 17, offsetFlags: 0, udpToVIP))),
            counter: "redirected_vip", redirected: true),
        SteeringCase(
            name: "ICMPv6 packet too big to LIP about a data-plane port",
            frame: F.ethernet(
                0x86DD, F.ipv6(source: client6, destination: lip6, next: 58, F.icmp(type: 2, quoted6FromLIP))),
            counter: "redirected_icmp", redirected: true),
        SteeringCase(
            name: "ICMPv6 neighbour solicitation",
            frame: F.ethernet(0x86DD, F.ipv6(source: client6, destination: lip6, next: 58, F.icmp(type: 135, lip6))),
            counter: "passed_no_match", redirected: false),
        SteeringCase(
            name: "TCP to IPv6 LIP inside the port range",
            frame: F.ethernet(
                0x86DD, F.ipv6(source: client6, destination: lip6, next: 6, F.tcp(source: 80, destination: 39999))),
            counter: "redirected_lip", redirected: true),
    ]
}()

@Suite(.serialized, .enabled(if: Lab.isRoot, "needs root for namespaces and XDP"))
struct SteeringNamespaceTests {
    let lab = Lab("st")

    @Test func classifiesEveryFrameKind() throws {
        try lab.create()
        defer { lab.destroy() }
        let failures = try lab.inGateway { () throws -> [String] in
            let interface = try NetworkInterface.named("sxg0")
            let program = try XDPProgram(interfaceIndex: interface.index, interfaceName: "sxg0", mode: .skb)
            defer { try? program.detach() }
            try program.setVIP(address: address4(vip4), port: 5000, protocol: 17)
            try program.setVIP(address: address6(vip6), port: 5000, protocol: 17)
            try program.setLocalAddress(address4(lip4))
            try program.setLocalAddress(address6(lip6))
            try program.setPortRange(30000...40000)
            let umem = try Umem(frameSize: 4096, frameCount: 256)
            let socket = try XSKSocket(interface: "sxg0", queue: 0, umem: umem)
            try program.setSocket(queue: 0, fd: socket.fd)

            var failures: [String] = []
            for steeringCase in steeringCases {
                let before = try program.readStats()
                let action = try program.testRun(frame: steeringCase.frame)
                let after = try program.readStats()
                let moved = after.filter { $0.value != before[$0.key] }.map(\.key).sorted()
                let expectedAction: UInt32 = steeringCase.redirected ? 4 : 2
                if moved != [steeringCase.counter] || action != expectedAction {
                    failures.append("\(steeringCase.name): action \(action), counters \(moved)")
                }
            }
            return failures
        }
        #expect(failures == [])
    }

    @Test func deliversVIPTrafficToTheSocketAndPassesTheRest() throws {
        try lab.create()
        defer { lab.destroy() }
        let outcome = try lab.inGateway { () throws -> (frames: [[UInt8]], stats: [String: UInt64], refused: String) in
            let interface = try NetworkInterface.named("sxg0")
            let program = try XDPProgram(interfaceIndex: interface.index, interfaceName: "sxg0", mode: .skb)
            defer { try? program.detach() }
            #expect(program.mode == .skb)
            try program.setVIP(address: address4(vip4), port: 5000, protocol: 17)
            let umem = try Umem(frameSize: 4096, frameCount: 256)
            let socket = try XSKSocket(interface: "sxg0", queue: 0, umem: umem)
            try program.setSocket(queue: 0, fd: socket.fd)
            var core = WorkerCore(
                processor: ScriptedProcessor(), network: NetworkView(), external: socket, internal: nil, reserve: 16)

            try lab.sendUDP(to: "10.77.9.9", port: 5000, count: 5)
            try lab.sendUDP(to: "10.77.9.9", port: 5001, count: 3)
            let refused = try lab.probeUDP(to: "10.77.0.1", port: 5001)
            let deadline = Date().addingTimeInterval(3)
            while core.processor.frames.count < 5 && Date() < deadline { _ = core.runOnce(now: 0) }
            return (core.processor.frames, try program.readStats(), refused)
        }
        #expect(outcome.frames.count == 5)
        for frame in outcome.frames {
            #expect(frame.count >= 42)
            #expect(Array(frame[30..<34]) == vip4)  // IPv4 destination
            #expect(Array(frame[36..<38]) == [0x13, 0x88])  // UDP destination port 5000
        }
        #expect(outcome.stats["redirected_vip"] == 5)
        #expect(outcome.stats["passed_no_match", default: 0] >= 4)  // 3 to a non-VIP port + the probe
        #expect(outcome.refused.contains("refused"))  // the kernel still answers for the host
        #expect(try lab.attachedProgram("sxg0") == nil)
    }

    @Test(.enabled(if: Lab.hasXDPLoader, "needs xdp-loader to plant a stale program"))
    func replacesAStaleProgramButNotAForeignOne() throws {
        try lab.create()
        defer { lab.destroy() }
        let object = try #require(XDPProgram.embeddedObject())
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sx-steer-\(getpid()).o")
        try Data(object).write(to: path)
        defer { try? FileManager.default.removeItem(at: path) }

        // A crashed run: the program stays attached with nobody to detach it.
        try Lab.run("ip", "netns", "exec", lab.gateway, "xdp-loader", "load", "-m", "skb", "sxg0", path.path)
        let stale = try #require(try lab.attachedProgram("sxg0"))
        #expect(stale.name == "sluice_steer")
        let replacement = try lab.inGateway { () throws -> UInt32 in
            let program = try XDPProgram(interfaceIndex: try NetworkInterface.named("sxg0").index, mode: .skb)
            // Keep it attached past this scope only long enough to check.
            let id = program.programID
            try program.detach()
            return id
        }
        #expect(replacement != UInt32(stale.id))
        #expect(try lab.attachedProgram("sxg0") == nil)

        // Another tool's program is left alone unless forced.
        try Lab.run(
            "ip", "netns", "exec", lab.gateway, "xdp-loader", "load", "-m", "skb", "sxg0",
            "/usr/lib/x86_64-linux-gnu/bpf/xdpfilt_alw_all.o")
        let foreign = try #require(try lab.attachedProgram("sxg0"))
        let refusal = try lab.inGateway { () -> String in
            do {
                _ = try XDPProgram(interfaceIndex: try NetworkInterface.named("sxg0").index, mode: .skb)
                return "attached"
            } catch {
                return "\(error)"
            }
        }
        #expect(refusal.contains("Device or resource busy"))
        #expect(try lab.attachedProgram("sxg0")?.id == foreign.id)
        let forced = try lab.inGateway { () throws -> String in
            let program = try XDPProgram(
                interfaceIndex: try NetworkInterface.named("sxg0").index, mode: .skb, force: true)
            defer { try? program.detach() }
            return try lab.attachedProgram("sxg0")?.name ?? ""
        }
        #expect(forced == "sluice_steer")
    }

    @Test func nativeModeExplainsWhenTheDriverCannotAndAutoFallsBack() throws {
        try lab.create()
        defer { lab.destroy() }
        let outcome = try lab.inGateway { () throws -> (native: String, auto: XDPMode) in
            let loopback = try NetworkInterface.named("lo")
            var native = "attached"
            do {
                let program = try XDPProgram(interfaceIndex: loopback.index, interfaceName: "lo", mode: .native)
                try program.detach()
            } catch {
                native = "\(error)"
            }
            let program = try XDPProgram(interfaceIndex: loopback.index, interfaceName: "lo", mode: .auto)
            defer { try? program.detach() }
            return (native, program.mode)
        }
        #expect(outcome.native.hasPrefix("attach XDP program in native mode on lo failed: "))
        #expect(outcome.native.contains("try mode skb"))
        #expect(!outcome.native.contains("\n"))
        #expect(outcome.auto == .skb)
    }

    @Test func unknownInterfaceIsAClearError() throws {
        try lab.create()
        defer { lab.destroy() }
        let message = try lab.inGateway { () -> String in
            do {
                _ = try NetworkInterface.named("sx-nope")
                return "found"
            } catch {
                return "\(error)"
            }
        }
        #expect(
            message
                == "look up interface on sx-nope failed: No such device (no such interface in this network namespace)")
    }
}
