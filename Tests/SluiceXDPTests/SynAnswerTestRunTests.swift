// The steering program's SYN proxy (sluice_synproxy.h), run with BPF_PROG_TEST_RUN on built frames (root
// only; namespaces sx-xs-*): for every combination of the client's SYN options, IPv4 and IPv6, under two
// sets of SYN-proxy settings, the frame XDP sends back (XDP_TX) must be byte for byte the frame SluiceCore's
// Dataplane sends for the same SYN with the same cookie key at the same millisecond. The millisecond is
// read off the answer's TSval and must lie between two CLOCK_MONOTONIC reads around the run, which is the
// check that the program's clock is the workers' clock; answers without timestamps are compared at a time
// within the same cookie minute. The data plane must then accept the client's ACK to an XDP cookie.
// Everything the program must not answer (not a pure SYN, malformed options, IP options, extension headers,
// a bad IPv4 checksum, services without syn_proxy or without a real server of weight > 0, no key yet,
// answer_in_xdp off) must be redirected to the data plane as before.

import Foundation
import SluiceCore
import SluicePacket
import SluiceTestKit
import Testing

@testable import SluiceXDP

/// Addresses and services of the SYN-answer tests.
private enum SynLab {
    static let gatewayMAC = MACAddress(0x0200_0000_0001)
    static let clientMAC = MACAddress(0x0200_0000_0002)
    static let client4 = IPAddress("10.77.0.2")!
    static let client6 = IPAddress("fd00:77::2")!
    static let vip4 = IPAddress("10.77.9.9")!
    static let vip6 = IPAddress("fd00:77:9::9")!
    static let lip4 = IPAddress("10.77.1.1")!
    static let lip6 = IPAddress("fd00:77:1::1")!
    static let server4 = IPAddress("10.77.1.2")!
    static let server6 = IPAddress("fd00:77:1::2")!
    /// Port 80: syn_proxy; 81: syn_proxy with TOA; 82: syn_proxy, only a weight-0 server; 83: plain TCP.
    static let proxied: UInt16 = 80
    static let toa: UInt16 = 81
    static let quiescent: UInt16 = 82
    static let plain: UInt16 = 83
    static let key: (UInt64, UInt64) = (0x0706_0504_0302_0100, 0x0F0E_0D0C_0B0A_0908)

    static func configuration(_ settings: SynProxyConfiguration, mssClamp: UInt16 = 0) -> DataplaneConfiguration {
        var services: [VirtualServiceConfiguration] = []
        for (vip, lip, server) in [(vip4, lip4, server4), (vip6, lip6, server6)] {
            func service(_ port: UInt16, synProxy: Bool = true, toa: Bool = false, weight: UInt32 = 1)
                -> VirtualServiceConfiguration
            {
                VirtualServiceConfiguration(
                    name: "s\(port)\(vip.isV6 ? "v6" : "v4")", vip: vip, port: port, transport: .tcp, scheduler: .rr,
                    localAddresses: [lip], synProxy: synProxy, clientAddress: toa ? .toa : .none,
                    realServers: [RealServerConfiguration(address: server, port: 8080, weight: weight)])
            }
            services += [
                service(proxied), service(toa, toa: true), service(quiescent, weight: 0),
                service(plain, synProxy: false),
            ]
        }
        return DataplaneConfiguration(
            services: services, localPortRange: 30000...40000, connectionCapacity: 1024, mssClamp: mssClamp,
            synProxy: settings)
    }

    /// The gateway's view: the client is a neighbour on the external interface (index 1).
    static let network = NetworkView(
        interfaces: [
            InterfaceInfo(index: 1, mac: gatewayMAC, mtu: 1500),
            InterfaceInfo(index: 2, mac: MACAddress(0x0200_0000_0003), mtu: 1500),
        ],
        routes: [
            Route(prefix: IPAddress("10.77.0.0")!, prefixLength: 24, interfaceIndex: 1, gateway: nil),
            Route(prefix: IPAddress("fd00:77::")!, prefixLength: 64, interfaceIndex: 1, gateway: nil),
            Route(prefix: IPAddress("10.77.1.0")!, prefixLength: 24, interfaceIndex: 2, gateway: nil),
            Route(prefix: IPAddress("fd00:77:1::")!, prefixLength: 64, interfaceIndex: 2, gateway: nil),
        ],
        neighbours: [
            NeighbourEntry(interfaceIndex: 1, address: client4, mac: clientMAC, state: NeighbourEntry.State.reachable),
            NeighbourEntry(interfaceIndex: 1, address: client6, mac: clientMAC, state: NeighbourEntry.State.reachable),
        ], generation: 1)

    static func dataplane(_ configuration: DataplaneConfiguration, key: (UInt64, UInt64) = key) -> Dataplane {
        Dataplane(
            configuration: configuration, worker: 0, workerCount: 1, externalInterface: 1, internalInterface: 2,
            secret: (1, 2), cookieKey: key)
    }

    /// A frame from the client to `port` of the VIP of its family.
    static func fromClient(v6: Bool, vlan: UInt16? = nil, ipv4Options: [UInt8] = [], destinationOptions: Bool = false)
        -> PacketBuilder
    {
        let b = PacketBuilder().ethernet(src: clientMAC, dst: gatewayMAC, vlan: vlan)
        if v6 {
            return b.ipv6(src: client6, dst: vip6, extensionHeaders: destinationOptions ? [.destinationOptions()] : [])
        }
        return b.ipv4(src: client4, dst: vip4, options: ipv4Options)
    }
}

/// What a client SYN offers.
struct SynOffer: Sendable, CustomTestStringConvertible {
    var mss: UInt16?
    var windowScale: UInt8?
    var sack: Bool
    var timestamps: Bool

    var options: [TCPOptionSpec] {
        var options: [TCPOptionSpec] = []
        if let mss { options.append(.mss(mss)) }
        if sack { options.append(.sackPermitted) }
        if timestamps { options.append(.timestamps(val: 0x0102_0304, ecr: 0)) }
        if let windowScale { options += [.nop, .windowScale(windowScale)] }
        return options
    }

    var testDescription: String {
        "mss \(mss.map(String.init) ?? "-") ws \(windowScale.map(String.init) ?? "-") sack \(sack) ts \(timestamps)"
    }

    /// MSS absent, small, ordinary and jumbo; window scale absent, 0, 9 and above the maximum.
    static let all: [SynOffer] = [nil, 536, 1460, 9000].flatMap { mss in
        [nil, 0, 9, 15].flatMap { ws in
            [false, true].flatMap { sack in
                [false, true].map { SynOffer(mss: mss, windowScale: ws, sack: sack, timestamps: $0) }
            }
        }
    }
}

/// A frame the program must answer.
struct AnswerCase: Sendable {
    var name: String
    var frame: [UInt8]
}

/// A frame the program must redirect, and whether it counts as a SYN left to the data plane.
struct PassCase: Sendable {
    var name: String
    var frame: [UInt8]
    var leftSYN: Bool
}

@Suite(.serialized, .enabled(if: Lab.isRoot, "needs root for namespaces and XDP"))
struct SynAnswerTestRunTests {
    let lab = Lab("xs")

    static let xdpTX: UInt32 = 3
    static let xdpRedirect: UInt32 = 4

    static func syn(
        v6: Bool, port: UInt16 = SynLab.proxied, offer: SynOffer, sport: UInt16 = 40000, isn: UInt32 = 0xFFFF_FFF0,
        window: UInt16 = 29200, flags: UInt8 = TCPFlag.syn, payload: [UInt8] = [], vlan: UInt16? = nil
    ) -> [UInt8] {
        SynLab.fromClient(v6: v6, vlan: vlan)
            .tcp(
                sport: sport, dport: port, seq: isn, flags: flags, window: window, options: offer.options,
                payload: payload
            )
            .build()
    }

    static let answerCases: [AnswerCase] = {
        var cases: [AnswerCase] = []
        for v6 in [false, true] {
            for offer in SynOffer.all {
                cases.append(
                    AnswerCase(name: "IPv\(v6 ? 6 : 4) \(offer.testDescription)", frame: syn(v6: v6, offer: offer)))
            }
            let family = "IPv\(v6 ? 6 : 4)"
            let full = SynOffer(mss: 1460, windowScale: 7, sack: true, timestamps: true)
            cases += [
                AnswerCase(name: "\(family) behind a VLAN tag", frame: syn(v6: v6, offer: full, vlan: 7)),
                AnswerCase(name: "\(family) with a payload", frame: syn(v6: v6, offer: full, payload: Array(0..<100))),
                AnswerCase(
                    name: "\(family) without options, padded to 60 bytes",
                    frame: SynLab.fromClient(v6: v6).tcp(sport: 40001, dport: SynLab.proxied, flags: TCPFlag.syn)
                        .padding(v6 ? 0 : 6).build()),
                AnswerCase(
                    name: "\(family) with TOA room",
                    frame: syn(
                        v6: v6, port: SynLab.toa,
                        offer: SynOffer(mss: 1460, windowScale: 2, sack: true, timestamps: false))),
                AnswerCase(
                    name: "\(family) with ECN setup (ECE|CWR)",
                    frame: syn(v6: v6, offer: full, flags: TCPFlag.syn | 0x40 | 0x80)),
                AnswerCase(
                    name: "\(family) with NOPs, an unknown option, a second MSS and bytes after EOL",
                    frame: SynLab.fromClient(v6: v6)
                        .tcp(
                            sport: 40002, dport: SynLab.proxied, flags: TCPFlag.syn,
                            options: [
                                .nop, .mss(1400), .raw(kind: 34, bytes: [1, 2, 3, 4, 5, 6]), .mss(1200),
                                .windowScale(3),
                                .nop, .sackPermitted, .eol, .bytes([3, 3, 9]),
                            ]
                        ).build()),
            ]
        }
        return cases
    }()

    static let passCases: [PassCase] = {
        var cases: [PassCase] = []
        let offer = SynOffer(mss: 1460, windowScale: 7, sack: true, timestamps: true)
        for v6 in [false, true] {
            let family = "IPv\(v6 ? 6 : 4)"
            func malformed(_ name: String, _ options: [TCPOptionSpec]) -> PassCase {
                PassCase(
                    name: "\(family) \(name)",
                    frame: SynLab.fromClient(v6: v6)
                        .tcp(sport: 40003, dport: SynLab.proxied, flags: TCPFlag.syn, options: options).build(),
                    leftSYN: true)
            }
            cases += [
                PassCase(name: "\(family) ACK", frame: syn(v6: v6, offer: offer, flags: TCPFlag.ack), leftSYN: false),
                PassCase(
                    name: "\(family) SYN-ACK", frame: syn(v6: v6, offer: offer, flags: TCPFlag.syn | TCPFlag.ack),
                    leftSYN: false),
                PassCase(
                    name: "\(family) SYN|RST", frame: syn(v6: v6, offer: offer, flags: TCPFlag.syn | TCPFlag.rst),
                    leftSYN: false),
                PassCase(
                    name: "\(family) SYN|FIN", frame: syn(v6: v6, offer: offer, flags: TCPFlag.syn | TCPFlag.fin),
                    leftSYN: false),
                PassCase(
                    name: "\(family) SYN to a service without syn_proxy",
                    frame: syn(v6: v6, port: SynLab.plain, offer: offer), leftSYN: false),
                PassCase(
                    name: "\(family) SYN to a service whose only server has weight 0",
                    frame: syn(v6: v6, port: SynLab.quiescent, offer: offer), leftSYN: true),
                malformed("MSS of length 3", [.bytes([2, 3, 5]), .nop]),
                malformed("window scale of length 4", [.bytes([3, 4, 7, 0])]),
                malformed("timestamps of length 8", [.bytes([8, 8, 0, 0, 0, 1, 0, 0])]),
                malformed("SACK of length 6", [.bytes([5, 6, 0, 0, 0, 1])]),
                malformed("option running past the header", [.nop, .nop, .bytes([30, 9])]),
                malformed("option of length 1", [.bytes([30, 1]), .nop, .nop]),
                malformed("kind without a length at the end", [.nop, .nop, .nop, .bytes([30])]),
            ]
        }
        cases.append(
            PassCase(
                name: "IPv4 with IP options",
                frame: SynLab.fromClient(v6: false, ipv4Options: [1, 1, 1, 1])
                    .tcp(sport: 40004, dport: SynLab.proxied, flags: TCPFlag.syn, options: offer.options).build(),
                leftSYN: true))
        var badChecksum = syn(v6: false, offer: offer)
        badChecksum[24] ^= 0x55
        cases.append(PassCase(name: "IPv4 with a bad header checksum", frame: badChecksum, leftSYN: true))
        cases.append(
            PassCase(
                name: "IPv6 with a destination options header",
                frame: SynLab.fromClient(v6: true, destinationOptions: true)
                    .tcp(sport: 40005, dport: SynLab.proxied, flags: TCPFlag.syn, options: offer.options).build(),
                leftSYN: true))
        return cases
    }()

    /// Two settings: the defaults, and everything the other way (no SACK, no timestamps, window scale
    /// 14, a lower MSS, an MSS clamp below it).
    static let settings: [(SynProxyConfiguration, UInt16)] = [
        (SynProxyConfiguration(), 0),
        (SynProxyConfiguration(mss: 1400, mssIPv6: 1380, windowScale: 14, sack: false, timestamps: false), 1300),
    ]

    /// Loads the program on the lab's gateway veth with a socket on queue 0, the services installed.
    private static func program(
        _ configuration: DataplaneConfiguration, keys: SynCookieKeyring?
    ) throws -> (XDPProgram, XSKSocket) {
        let interface = try NetworkInterface.named("sxg0")
        let program = try XDPProgram(interfaceIndex: interface.index, interfaceName: "sxg0", mode: .skb)
        if let keys { try program.setCookieKeys(keys) }
        try program.apply(configuration: configuration)
        let umem = try Umem(frameSize: 4096, frameCount: 64)
        let socket = try XSKSocket(interface: "sxg0", queue: 0, umem: umem)
        try program.setSocket(queue: 0, fd: socket.fd)
        return (program, socket)
    }

    /// Runs `frame` through the program and through a data plane with the same key at the same
    /// millisecond. Nil when they agree byte for byte; otherwise what differed.
    private static func compare(
        _ frame: [UInt8], program: XDPProgram, configuration: DataplaneConfiguration, key: (UInt64, UInt64)
    ) throws -> String? {
        for _ in 0..<3 {
            let before = MonotonicClock.milliseconds()
            let (action, answer) = try program.testRunWithOutput(frame: frame)
            let after = MonotonicClock.milliseconds()
            guard action == xdpTX else { return "action \(action), not XDP_TX" }
            var info = PacketInfo()
            if let reason = PacketParser.parse(answer.span, length: answer.count, into: &info) {
                return "the answer does not parse: \(reason)"
            }
            var now = before
            let tsOffset = info.tcpOptions.timestampOffset
            if tsOffset >= 0 {
                // The answer's TSval is the program's millisecond clock: it must read as the workers' clock.
                let tsval = answer.span.u32(tsOffset)
                now = before &+ UInt64(tsval &- UInt32(truncatingIfNeeded: before))
                guard now >= before && now <= after else {
                    return "TSval \(tsval) is not CLOCK_MONOTONIC milliseconds (\(before)...\(after))"
                }
            } else if before / SynCookie.counterPeriodMilliseconds != after / SynCookie.counterPeriodMilliseconds {
                continue  // the cookie minute changed during the run: take another
            }
            var dataplane = SynLab.dataplane(configuration, key: key)
            var buffer = frame + [UInt8](repeating: 0, count: 4096 - frame.count)
            var length = frame.count
            var span = buffer.mutableSpan
            let verdict = dataplane.process(
                frame: &span, length: &length, from: .external, now: now, network: SynLab.network)
            guard case .transmit(.external) = verdict else { return "the data plane answered \(verdict)" }
            let expected = Array(buffer.prefix(length))
            if answer != expected {
                return "XDP sent \(hex(answer))\n   data plane \(hex(expected))"
            }
            if let problem = FrameChecker.problem(answer) { return "bad answer: \(problem)" }
            return nil
        }
        return "the cookie minute kept changing"
    }

    /// The counters the SYN path moves between two readings. The others are left out: the lab's veth also
    /// carries the kernel's own traffic (IPv6 neighbour discovery), which the program counts as it passes.
    private static func moved(_ before: [String: UInt64], _ after: [String: UInt64]) -> [String] {
        let watched: Set = ["syn_answered", "syn_to_dataplane", "redirected_vip", "redirect_failed", "malformed"]
        return after.filter { watched.contains($0.key) && $0.value != before[$0.key] }.map(\.key).sorted()
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    @Test func answersEverySynLikeTheDataPlane() throws {
        try lab.create()
        defer { lab.destroy() }
        let failures = try lab.inGateway { () throws -> [String] in
            var failures: [String] = []
            for (settings, clamp) in Self.settings {
                let configuration = SynLab.configuration(settings, mssClamp: clamp)
                let (program, socket) = try Self.program(configuration, keys: SynCookieKeyring(key: SynLab.key))
                defer { try? program.detach() }
                _ = socket
                for answerCase in Self.answerCases {
                    let before = try program.readStats()
                    if let problem = try Self.compare(
                        answerCase.frame, program: program, configuration: configuration, key: SynLab.key)
                    {
                        failures.append("\(answerCase.name), clamp \(clamp): \(problem)")
                        continue
                    }
                    let moved = Self.moved(before, try program.readStats())
                    if moved != ["syn_answered"] { failures.append("\(answerCase.name): counters \(moved)") }
                }
            }
            return failures
        }
        #expect(failures == [])
    }

    @Test func leavesEverythingElseToTheDataPlane() throws {
        try lab.create()
        defer { lab.destroy() }
        let failures = try lab.inGateway { () throws -> [String] in
            let configuration = SynLab.configuration(SynProxyConfiguration())
            let (program, socket) = try Self.program(configuration, keys: SynCookieKeyring(key: SynLab.key))
            defer { try? program.detach() }
            _ = socket
            var failures: [String] = []
            for passCase in Self.passCases {
                let before = try program.readStats()
                let (action, output) = try program.testRunWithOutput(frame: passCase.frame)
                let moved = Self.moved(before, try program.readStats())
                let expected = passCase.leftSYN ? ["redirected_vip", "syn_to_dataplane"] : ["redirected_vip"]
                if action != Self.xdpRedirect || moved != expected || output != passCase.frame {
                    failures.append("\(passCase.name): action \(action), counters \(moved)")
                }
            }
            return failures
        }
        #expect(failures == [])
    }

    @Test func answersOnlyWithAKeyAndWhenSwitchedOn() throws {
        try lab.create()
        defer { lab.destroy() }
        let outcome = try lab.inGateway { () throws -> [String: UInt32] in
            var settings = SynProxyConfiguration()
            let configuration = SynLab.configuration(settings)
            let (program, socket) = try Self.program(configuration, keys: nil)
            defer { try? program.detach() }
            _ = socket
            let frame = Self.syn(v6: false, offer: SynOffer(mss: 1460, windowScale: 7, sack: true, timestamps: true))
            var actions: [String: UInt32] = [:]
            actions["no key"] = try program.testRun(frame: frame)
            try program.setCookieKeys(SynCookieKeyring(key: SynLab.key))
            actions["key"] = try program.testRun(frame: frame)
            settings.answerInXDP = false
            try program.apply(configuration: SynLab.configuration(settings))
            actions["answer_in_xdp off"] = try program.testRun(frame: frame)
            settings.answerInXDP = true
            try program.apply(configuration: SynLab.configuration(settings))
            actions["answer_in_xdp on again"] = try program.testRun(frame: frame)
            program.transmitWorks = false
            try program.apply(configuration: SynLab.configuration(settings))
            actions["XDP_TX does not work"] = try program.testRun(frame: frame)
            return actions
        }
        #expect(
            outcome == [
                "no key": Self.xdpRedirect, "key": Self.xdpTX, "answer_in_xdp off": Self.xdpRedirect,
                "answer_in_xdp on again": Self.xdpTX, "XDP_TX does not work": Self.xdpRedirect,
            ])
    }

    /// The timed run Perf's xdp-syn-probe uses: the action of the run and a duration from the kernel; with
    /// `repeat`, the program sees its own answer from the second run on: a SYN-ACK to the client, which
    /// is no VIP, so the kernel gets it (XDP_PASS).
    @Test func timedRunsReportTheActionAndADuration() throws {
        try lab.create()
        defer { lab.destroy() }
        let (runs, shortRefused) = try lab.inGateway {
            () throws -> ([(action: UInt32, nanoseconds: UInt32)], Bool) in
            let (program, socket) = try Self.program(
                SynLab.configuration(SynProxyConfiguration()), keys: SynCookieKeyring(key: SynLab.key))
            defer { try? program.detach() }
            _ = socket
            let frame = Self.syn(v6: false, offer: SynOffer(mss: 1460, windowScale: 7, sack: true, timestamps: true))
            let runs = [try program.timedTestRun(frame: frame), try program.timedTestRun(frame: frame, repeat: 2)]
            return (runs, (try? program.timedTestRun(frame: Array(frame.prefix(13)))) == nil)
        }
        #expect(runs[0].action == Self.xdpTX)
        #expect(runs[0].nanoseconds > 0)
        #expect(runs[1].action == 2)
        #expect(shortRefused)
    }

    /// Rotation: the program makes cookies with the new key at once; a data plane that took the same
    /// rotation accepts the ACK to a cookie made before it (previous key) and after it (current key).
    @Test func rotatedKeysAgreeWithTheWorkers() throws {
        try lab.create()
        defer { lab.destroy() }
        let outcome = try lab.inGateway { () throws -> (String?, [Verdict]) in
            let configuration = SynLab.configuration(SynProxyConfiguration())
            var keyring = SynCookieKeyring(key: SynLab.key)
            let (program, socket) = try Self.program(configuration, keys: keyring)
            defer { try? program.detach() }
            _ = socket
            let offer = SynOffer(mss: 1460, windowScale: 7, sack: true, timestamps: true)
            let first = Self.syn(v6: false, offer: offer, sport: 41000, isn: 1000)
            let (_, firstAnswer) = try program.testRunWithOutput(frame: first)
            let newKey: (UInt64, UInt64) = (0x1111_2222_3333_4444, 0x5555_6666_7777_8888)
            keyring.rotate(to: newKey)
            try program.setCookieKeys(keyring)
            let problem = try Self.compare(
                Self.syn(v6: true, offer: offer), program: program, configuration: configuration, key: newKey)
            let second = Self.syn(v6: false, offer: offer, sport: 42000, isn: 2000)
            let (_, secondAnswer) = try program.testRunWithOutput(frame: second)

            var dataplane = SynLab.dataplane(configuration)
            dataplane.rotateSynCookieKey(newKey)
            var verdicts: [Verdict] = []
            for (sport, isn, answer) in [(UInt16(41000), UInt32(1000), firstAnswer), (42000, 2000, secondAnswer)] {
                var info = PacketInfo()
                _ = PacketParser.parse(answer.span, length: answer.count, into: &info)
                let cookie = answer.span.u32(info.l4Offset + 4)
                let tsval = answer.span.u32(info.tcpOptions.timestampOffset)
                let ack = SynLab.fromClient(v6: false)
                    .tcp(
                        sport: sport, dport: SynLab.proxied, seq: isn &+ 1, ack: cookie &+ 1, flags: TCPFlag.ack,
                        window: 502, options: [.nop, .nop, .timestamps(val: 77, ecr: tsval)]
                    ).build()
                var buffer = ack + [UInt8](repeating: 0, count: 4096 - ack.count)
                var length = ack.count
                var span = buffer.mutableSpan
                verdicts.append(
                    dataplane.process(
                        frame: &span, length: &length, from: .external, now: MonotonicClock.milliseconds(),
                        network: SynLab.network))
            }
            return (problem, verdicts)
        }
        #expect(outcome.0 == nil)
        // A valid cookie opens the connection and holds the ACK until the real server answers.
        #expect(outcome.1.count == 2)
        for verdict in outcome.1 {
            guard case .drop(.heldForReplay) = verdict else {
                Issue.record("ACK to an XDP cookie: \(verdict)")
                continue
            }
        }
    }
}
