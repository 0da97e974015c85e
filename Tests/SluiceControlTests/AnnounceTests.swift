// Route announcement: the level-triggered decision (first checks, quorum, drain, stall), BIRD's
// include file and control protocol against a fake BIRD on a unix socket, and the pull endpoint.

import Foundation
import Logging
import NIOCore
import NIOPosix
import SluiceAdmin
import SluiceControl
import SluicePacket
import SluiceTestKit
import Synchronization
import Testing

private let twoServices = """
    interfaces: { external: eth0 }
    local_address_groups: { lips: [10.20.0.240] }
    virtual_servers:
      - name: web
        vip: 203.0.113.10
        port: 80
        protocol: tcp
        local_address_group: lips
        health_check: { type: tcp, rise: 1, fall: 1 }
        real_servers: [{ address: 10.30.0.11, port: 8080 }]
      - name: dns
        vip: 203.0.113.10
        port: 53
        protocol: udp
        local_address_group: lips
        real_servers: [{ address: 10.30.0.11, port: 53 }]
      - name: other
        vip: 203.0.113.20
        port: 80
        protocol: tcp
        local_address_group: lips
        health_check: { type: tcp, rise: 1, fall: 1 }
        real_servers: [{ address: 10.30.0.12, port: 8080 }]
    """

@Suite struct AnnounceDecisionTests {
    let gatewayOK = AnnounceDecision.Gateway(dataPlaneUp: true, drained: false, stalled: false)

    func state(up: [IPAddress], down: [IPAddress]) throws -> DesiredState {
        var s = DesiredState(configuration: try ConfigurationLoader.parse(yaml: twoServices))
        for (id, _, rs) in s.realServers where s.health[id] != nil {
            var h = s.health[id]!
            let good = up.contains(rs.address)
            if good || down.contains(rs.address) {
                _ = h.record(CheckResult(status: good ? .l4OK : .l4Connection, durationMilliseconds: 1))
            }
            s.health[id] = h
        }
        return s
    }

    @Test func nothingBeforeTheFirstChecks() throws {
        let decisions = AnnounceDecision.decide(try state(up: [], down: []), gateway: gatewayOK)
        #expect(decisions.map(\.announcement.reason) == ["first_checks_pending", "first_checks_pending"])
    }

    @Test func quorumPerVIP() throws {
        let ip11 = IPAddress("10.30.0.11")!
        let ip12 = IPAddress("10.30.0.12")!
        let decisions = AnnounceDecision.decide(try state(up: [ip11], down: [ip12]), gateway: gatewayOK)
        #expect(decisions.map(\.announcement.announced) == [true, false])
        #expect(decisions[1].announcement.reason == "quorum 0/1 (other)")
        // web down but dns (static) keeps 203.0.113.10 announced: one service at quorum is enough.
        let webDown = AnnounceDecision.decide(try state(up: [ip12], down: [ip11]), gateway: gatewayOK)
        #expect(webDown.map(\.announcement.announced) == [true, true])
    }

    @Test func drainStallAndDataPlane() throws {
        let s = try state(up: [IPAddress("10.30.0.11")!, IPAddress("10.30.0.12")!], down: [])
        for (gateway, reason) in [
            (AnnounceDecision.Gateway(dataPlaneUp: true, drained: true, stalled: false), "drain"),
            (AnnounceDecision.Gateway(dataPlaneUp: true, drained: false, stalled: true), "stall"),
            (AnnounceDecision.Gateway(dataPlaneUp: false, drained: false, stalled: false), "dataplane_down"),
        ] {
            let d = AnnounceDecision.decide(s, gateway: gateway)
            #expect(d.allSatisfy { !$0.announcement.announced && $0.announcement.reason == reason })
        }
    }
}

/// A fake BIRD control socket: greets, then answers every line with `reply`.
final class FakeBird: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let reply: String
    let received = Mutex<[String]>([])

    init(reply: String) { self.reply = reply }

    func channelActive(context: ChannelHandlerContext) {
        var b = context.channel.allocator.buffer(capacity: 64)
        b.writeString("0001 BIRD 2.0.12 ready.\n")
        context.writeAndFlush(wrapOutboundOut(b), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        let text = buffer.readString(length: buffer.readableBytes) ?? ""
        received.withLock { $0.append(text) }
        var b = context.channel.allocator.buffer(capacity: 64)
        b.writeString(reply)
        context.writeAndFlush(wrapOutboundOut(b), promise: nil)
    }

    static func serve(_ handler: FakeBird, at path: String) async throws -> any Channel {
        try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler) }
            }
            .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).get()
    }
}

@Suite struct BirdAnnouncerTests {
    @Test func writesTheIncludeFileAndReconfigures() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-bird-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let bird = FakeBird(reply: "0002-Reading configuration from /etc/bird/bird.conf\n0003 Reconfigured\n")
        let server = try await FakeBird.serve(bird, at: dir + "/bird.ctl")
        defer { server.close(promise: nil) }
        let announcer = BirdAnnouncer(
            controlSocket: dir + "/bird.ctl", includeFile: dir + "/vips.conf", includeFile6: dir + "/vips6.conf")
        try await announcer.apply([IPAddress("203.0.113.10")!, IPAddress("fd00:203::10")!])
        let text = try String(contentsOfFile: dir + "/vips.conf", encoding: .utf8)
        #expect(text.contains("route 203.0.113.10/32 blackhole;\n") && !text.contains("fd00"))
        let text6 = try String(contentsOfFile: dir + "/vips6.conf", encoding: .utf8)
        #expect(text6.contains("route fd00:203::10/128 blackhole;\n") && !text6.contains("203.0.113"))
        try await announcer.apply([IPAddress("203.0.113.10")!, IPAddress("fd00:203::10")!])  // unchanged
        #expect(bird.received.withLock { $0 } == ["configure\n"])
        try await announcer.apply([])
        #expect(!(try String(contentsOfFile: dir + "/vips.conf", encoding: .utf8)).contains("route"))
        #expect(bird.received.withLock { $0.count } == 2)
        // The guard empties the files while this process is stopped: the next apply writes them again.
        try await announcer.apply([IPAddress("203.0.113.10")!])
        try BirdAnnouncer.includeText([]).write(toFile: dir + "/vips.conf", atomically: true, encoding: .utf8)
        try await announcer.apply([IPAddress("203.0.113.10")!])
        #expect((try String(contentsOfFile: dir + "/vips.conf", encoding: .utf8)).contains("route 203.0.113.10/32"))
        #expect(bird.received.withLock { $0.count } == 4)
    }

    @Test func anErrorCodeIsAFailure() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-bird-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try await FakeBird.serve(FakeBird(reply: "8002 vips.conf:2:1 syntax error\n"), at: dir + "/ctl")
        defer { server.close(promise: nil) }
        await #expect(throws: BirdControl.Failure.self) {
            try await BirdControl.run("configure", socket: dir + "/ctl")
        }
        await #expect(throws: (any Error).self) {
            try await BirdControl.run("configure", socket: dir + "/nothing-here")
        }
    }
}

@Suite struct AnnounceEndpointTests {
    @Test func pullEndpointAndDrain() async throws {
        let control = ControlPlane(
            configuration: try ConfigurationLoader.parse(yaml: twoServices), sink: RecordingSink(),
            logger: Logger(label: "test"))
        let board = AnnounceBoard()
        await board.publish([
            VIPAnnouncement(vip: "203.0.113.10", announced: true, reason: "ok"),
            VIPAnnouncement(vip: "203.0.113.20", announced: false, reason: "quorum 0/1 (other)"),
        ])
        let handler = AdminHandler(
            control: control, gateway: FakeGateway(traffic: []), sampler: TrafficSampler(), board: board
        ) { ReloadResult(applied: true, changes: [], problems: []) }
        func status(_ method: String, _ uri: String, _ body: String = "") async -> Int {
            await handler.handle(AdminRequest(method: method, uri: uri, body: Array(body.utf8))).status
        }
        #expect(await status("GET", "/v1/announce/203.0.113.10") == 200)
        #expect(await status("GET", "/v1/announce/203.0.113.20") == 503)
        #expect(await status("GET", "/v1/announce/203.0.113.99") == 404)
        #expect(await status("GET", "/v1/announce/nope") == 400)
        #expect(await status("PUT", "/v1/drain", #"{"drain": true}"#) == 200)
        #expect(await control.drained)
        #expect(await status("PUT", "/v1/drain", #"{"drain": "yes"}"#) == 400)
        #expect(await status("PUT", "/v1/drain", #"{"drain": false}"#) == 200)
        #expect(await !control.drained)
    }
}

@Suite struct GuardWatchTests {
    typealias Instant = TestClock.Instant
    func at(_ ms: Int64) -> Instant { Instant(offset: .milliseconds(ms)) }

    @Test func silenceAfterTheFirstBeatWithdrawsOnceUntilBeatsResume() {
        var watch = GuardWatch<Instant>(timeout: .seconds(3))
        // Before the first beat (start-up) no silence counts.
        let startUpExpired = watch.expire(at: at(60_000))
        #expect(watch.deadline == nil && !startUpExpired)
        let resumedAtFirst = watch.beat(at: at(0))
        #expect(!resumedAtFirst && watch.deadline == at(3000))
        _ = watch.beat(at: at(1000))
        let early = watch.expire(at: at(3999))
        let due = watch.expire(at: at(4000))
        #expect(!early && due)
        // Withdrawn once: later deadlines do not fire again while the silence lasts.
        let again = watch.expire(at: at(30_000))
        #expect(watch.withdrawn && watch.deadline == nil && !again)
        let resumed = watch.beat(at: at(31_000))
        #expect(resumed && !watch.withdrawn && watch.deadline == at(34_000))
    }
}

/// Records what the announcer service hands its backend.
final class RecordingAnnouncer: RouteAnnouncer {
    let applied = Mutex<[[IPAddress]]>([])
    func apply(_ vips: [IPAddress]) async throws { applied.withLock { $0.append(vips) } }
    var last: [IPAddress]? { applied.withLock { $0.last } }
}

@Suite struct AnnouncerServiceTests {
    static let vip = IPAddress("203.0.113.10")!
    static let yaml = """
        interfaces: { external: eth0 }
        local_address_groups: { lips: [10.20.0.240] }
        virtual_servers:
          - { name: dns, vip: 203.0.113.10, port: 53, protocol: udp, local_address_group: lips,
              real_servers: [{ address: 10.30.0.11, port: 53 }] }
        """

    @Test func stallWithdrawsButAProcessPauseDoesNot() async throws {
        let clock = TestClock()
        let control = ControlPlane(
            configuration: try ConfigurationLoader.parse(yaml: Self.yaml), sink: RecordingSink(),
            logger: Logger(label: "test"))
        let announcer = RecordingAnnouncer()
        let board = AnnounceBoard()
        let workerBeats = Mutex<[UInt64]>([1, 1])
        let guardBeats = Mutex(0)
        let service = AnnouncerService(
            control: control, announcer: announcer, board: board, heartbeats: { workerBeats.withLock { $0 } },
            beat: { guardBeats.withLock { $0 += 1 } }, drainFile: nil, shutdownGrace: .zero, clock: clock,
            logger: Logger(label: "test"))
        let task = Task { await service.run() }
        defer { task.cancel() }
        func round(after duration: Duration, workers: [UInt64]?) async {
            if let workers { workerBeats.withLock { $0 = workers } }
            clock.advance(by: duration)
            #expect(await clock.waitForSleepers(1))
        }
        // The first round has nothing to compare with: announced at once, and the guard hears a beat.
        #expect(await clock.waitForSleepers(1))
        #expect(announcer.last == [Self.vip] && guardBeats.withLock { $0 } == 1)
        await round(after: .seconds(1), workers: [2, 2])
        #expect(announcer.last == [Self.vip])
        // One worker did not move in a whole interval: stalled, withdrawn.
        await round(after: .seconds(1), workers: [3, 2])
        #expect(announcer.last == [])
        #expect(await board.decisions.first?.reason == "stall")
        await round(after: .seconds(1), workers: [4, 3])
        #expect(announcer.last == [Self.vip])
        // The whole process was stopped for 10 s (the workers too): not a stall; judged half a second on.
        await round(after: .seconds(10), workers: nil)
        #expect(announcer.last == [Self.vip])
        await round(after: .milliseconds(500), workers: [5, 4])
        #expect(announcer.last == [Self.vip])
        #expect(guardBeats.withLock { $0 } == 6)
    }
}
