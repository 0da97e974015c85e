// The control layer without the data plane: the rise/fall state machine, the merge of file, health
// and runtime overrides into the workers' configuration, reload diffs, and the health checker and
// cookie-key service driven by a manual clock, a scripted probe and fake runtimes.

import Logging
import SluiceControl
import SluiceCore
import SluicePacket
import SluiceTestKit
import SluiceXDP
import Synchronization
import Testing

/// Records every configuration the control plane publishes.
final class RecordingSink: DataPlaneSink {
    let published = Mutex<[DataplaneConfiguration]>([])
    func publish(_ configuration: DataplaneConfiguration) throws { published.withLock { $0.append(configuration) } }
    var last: DataplaneConfiguration? { published.withLock { $0.last } }
    var count: Int { published.withLock { $0.count } }
}

/// Answers checks from a script per server address (the last answer repeats); counts calls.
final class ScriptedProbe: HealthProbe {
    let script: Mutex<[IPAddress: [CheckStatus]]>
    let calls = Mutex<[IPAddress: Int]>([:])
    init(_ script: [IPAddress: [CheckStatus]]) { self.script = Mutex(script) }
    func set(_ address: IPAddress, _ statuses: [CheckStatus]) { script.withLock { $0[address] = statuses } }
    func check(_ target: CheckTarget) async -> CheckResult {
        let status = script.withLock { s -> CheckStatus in
            guard var list = s[target.address], let first = list.first else { return .l4Connection }
            if list.count > 1 { list.removeFirst() }
            s[target.address] = list
            return first
        }
        calls.withLock { $0[target.address, default: 0] += 1 }
        return CheckResult(status: status, durationMilliseconds: 1)
    }
    func callCount(_ address: IPAddress) -> Int { calls.withLock { $0[address] ?? 0 } }
}

private let rs1 = IPAddress("10.30.0.11")!
private let rs2 = IPAddress("10.30.0.12")!

private func configuration(
    check: String = "{ type: tcp, interval: 1s, timeout: 500ms, rise: 2, fall: 2 }", extra: String = ""
)
    -> SluiceConfiguration
{
    try! ConfigurationLoader.parse(
        yaml: """
            interfaces: { external: eth0 }
            local_address_groups: { lips: [10.20.0.240] }
            virtual_servers:
              - name: web
                vip: 203.0.113.10
                port: 80
                protocol: tcp
                scheduler: rr
                local_address_group: lips
                health_check: \(check)
            \(extra)
                real_servers:
                  - { address: 10.30.0.11, port: 8080, weight: 3 }
                  - { address: 10.30.0.12, port: 8080, weight: 1 }
            """)
}

@Suite struct ServerHealthTests {
    func result(_ ok: Bool) -> CheckResult { CheckResult(status: ok ? .l4OK : .l4Connection, durationMilliseconds: 1) }

    @Test func startsDownAndRisesAfterRiseSuccesses() {
        var h = ServerHealth(rise: 2, fall: 3)
        #expect(!h.isUp)
        #expect(h.record(result(true)) == nil)
        #expect(h.record(result(true)) == .up)
        #expect(h.isUp)
    }

    @Test func fallsAfterFallFailuresInARow() {
        var h = ServerHealth(rise: 1, fall: 3, isUp: true)
        #expect(h.record(result(false)) == nil)
        #expect(h.record(result(false)) == nil)
        #expect(h.record(result(false)) == .down)
        #expect(h.failures == 3 && h.checks == 3)
    }

    @Test func flappingNeverCompletesAStreak() {
        var h = ServerHealth(rise: 2, fall: 2, isUp: true)
        for _ in 0..<10 {
            #expect(h.record(result(false)) == nil)
            #expect(h.record(result(true)) == nil)
        }
        #expect(h.isUp)
    }
}

@Suite struct DesiredStateTests {
    func id(_ a: IPAddress) -> RealServerID { RealServerID(service: "web", address: a, port: 8080) }

    @Test func checkedServersStartDownStaticOnesUp() {
        let checked = DesiredState(configuration: configuration())
        #expect(checked.dataplaneConfiguration().services[0].realServers.map(\.isUp) == [false, false])
        let statics = DesiredState(configuration: configuration(check: "{ type: none }"))
        #expect(statics.dataplaneConfiguration().services[0].realServers.map(\.isUp) == [true, true])
    }

    @Test func downInhibitDrainAndOverrides() {
        var state = DesiredState(configuration: configuration())
        var up = ServerHealth(rise: 1, fall: 1)
        _ = up.record(CheckResult(status: .l4OK, durationMilliseconds: 1))
        state.health[id(rs1)] = up
        var servers = state.dataplaneConfiguration().services[0].realServers
        #expect(servers[0].isUp && servers[0].weight == 3)
        #expect(!servers[1].isUp)
        #expect(state.liveCount(of: state.configuration.virtualServers[0]) == (1, 2))

        state.overrides[id(rs1)] = RuntimeOverride(weight: 7)
        #expect(state.dataplaneConfiguration().services[0].realServers[0].weight == 7)
        state.overrides[id(rs1)] = RuntimeOverride(weight: 7, adminState: .drain)
        servers = state.dataplaneConfiguration().services[0].realServers
        #expect(servers[0].weight == 0 && servers[0].isUp)
        #expect(state.liveCount(of: state.configuration.virtualServers[0]).live == 0)

        let inhibit = DesiredState(configuration: configuration(extra: "    inhibit_on_failure: true"))
        let kept = inhibit.dataplaneConfiguration().services[0].realServers
        #expect(kept.map(\.isUp) == [true, true] && kept.map(\.weight) == [0, 0])
    }

    @Test func sorryServerOnlyWhileNoServerIsLive() {
        var state = DesiredState(
            configuration: configuration(extra: "    sorry_server: { address: 10.30.0.99, port: 8080 }"))
        let sorry = IPAddress("10.30.0.99")!
        #expect(state.dataplaneConfiguration().services[0].realServers.last?.address == sorry)
        var up = ServerHealth(rise: 1, fall: 1)
        _ = up.record(CheckResult(status: .l4OK, durationMilliseconds: 1))
        state.health[id(rs2)] = up
        #expect(!state.dataplaneConfiguration().services[0].realServers.contains { $0.address == sorry })
    }
}

@Suite struct ReloadDiffTests {
    @Test func namesEveryChangeAndRestartKeys() throws {
        let old = configuration(check: "{ type: none }")
        var new = old
        new.virtualServers[0].realServers[0].weight = 5
        new.virtualServers[0].realServers.remove(at: 1)
        new.virtualServers[0].realServers.append(
            RealServerConfiguration(address: IPAddress("10.30.0.13")!, port: 8080, weight: 1))
        let diff = ReloadDiff(from: old, to: new)
        #expect(!diff.isRefused)
        #expect(
            diff.changes.contains {
                $0.hasPrefix("event=rs_changed vs=web vip=tcp/203.0.113.10:80 rs=10.30.0.11:8080 weight=3->5")
            })
        #expect(diff.changes.contains { $0.hasPrefix("event=rs_added vs=web") && $0.contains("10.30.0.13:8080") })
        #expect(diff.changes.contains { $0.hasPrefix("event=rs_removed vs=web") && $0.contains("10.30.0.12:8080") })
        var resized = old
        resized.dataplane.workers = 2
        resized.dataplane.workersConfigured = true
        resized.interfaces.external = "eth9"
        let refused = ReloadDiff(from: old, to: resized)
        #expect(refused.isRefused)
        #expect(refused.restartRequired == ["interfaces", "dataplane.workers"])
    }

    @Test func controlPlaneKeepsHealthAndOverridesAcrossReload() async throws {
        let sink = RecordingSink()
        let control = ControlPlane(configuration: configuration(), sink: sink, logger: Logger(label: "test"))
        let id1 = RealServerID(service: "web", address: rs1, port: 8080)
        await control.record(id1, CheckResult(status: .l4OK, durationMilliseconds: 1))
        await control.record(id1, CheckResult(status: .l4OK, durationMilliseconds: 1))
        #expect(sink.last?.services[0].realServers[0].isUp == true)
        #expect(await control.setOverride(id1, weight: 9, adminState: nil))
        #expect(
            await !control.setOverride(RealServerID(service: "web", address: rs1, port: 1), weight: 1, adminState: nil))
        var next = configuration()
        next.virtualServers[0].realServers[1].weight = 4
        let diff = await control.reload(to: next)
        #expect(!diff.isRefused)
        let after = try #require(sink.last?.services[0].realServers)
        #expect(after[0].isUp && after[0].weight == 9)
        #expect(!after[1].isUp)
        var bad = next
        bad.dataplane.frames = 8192
        let before = sink.count
        #expect(await control.reload(to: bad).isRefused)
        #expect(sink.count == before)
        #expect(await control.lastReloadSucceeded == false)
    }
}

@Suite struct HealthCheckServiceTests {
    @Test func checksAtOnceThenEveryIntervalAndFlipsState() async throws {
        let clock = TestClock()
        let sink = RecordingSink()
        let control = ControlPlane(configuration: configuration(), sink: sink, logger: Logger(label: "test"))
        let probe = ScriptedProbe([rs1: [.l4OK], rs2: [.l4OK, .l4OK, .l4Connection]])
        let service = HealthCheckService(control: control, probe: probe, clock: clock)
        let task = Task { await service.run() }
        defer { task.cancel() }
        // Both checked at once, before any time passes; both down until rise (2) successes.
        #expect(await clock.waitForSleepers(2))
        #expect(probe.callCount(rs1) == 1 && probe.callCount(rs2) == 1)
        #expect(await control.state.isHealthy(RealServerID(service: "web", address: rs1, port: 8080)) == false)
        // The second check is spread: rs1 at 1 s, rs2 at 1.5 s (phase = interval / 2).
        clock.advance(by: .milliseconds(1000))
        #expect(await clock.waitForSleepers(2))
        #expect(probe.callCount(rs1) == 2 && probe.callCount(rs2) == 1)
        #expect(await control.state.isHealthy(RealServerID(service: "web", address: rs1, port: 8080)))
        clock.advance(by: .milliseconds(500))
        #expect(await clock.waitForSleepers(2))
        #expect(probe.callCount(rs2) == 2)
        #expect(await control.state.isHealthy(RealServerID(service: "web", address: rs2, port: 8080)))
        #expect(sink.last?.services[0].realServers.map(\.isUp) == [true, true])
        // rs2 now fails: down after fall (2) failures, i.e. two more intervals.
        clock.advance(by: .milliseconds(1000))
        #expect(await clock.waitForSleepers(2))
        clock.advance(by: .milliseconds(1000))
        #expect(await clock.waitForSleepers(2))
        #expect(probe.callCount(rs2) == 4)
        #expect(sink.last?.services[0].realServers.map(\.isUp) == [true, false])
    }
}

/// A data plane whose workers take a key after `lag` polls.
final class FakeKeyRuntime: CookieKeyRuntime {
    struct State {
        var generation: UInt64 = 0
        var installed: [UInt64] = []
        var polls = 0
        var transmitChecks = 0
        var keys: [(UInt64, UInt64)] = []
    }
    let state = Mutex(State())
    let lag: Int
    init(lag: Int) { self.lag = lag }
    func publishCookieKey() -> UInt64 {
        state.withLock {
            $0.generation += 1
            return $0.generation
        }
    }
    func publishCookieKey(_ key: (UInt64, UInt64)) -> UInt64 {
        state.withLock {
            $0.keys.append(key)
            $0.generation += 1
            return $0.generation
        }
    }
    func workersHoldCookieKey(_ generation: UInt64) -> Bool {
        state.withLock { s in
            s.polls += 1
            return s.polls > lag
        }
    }
    func installCookieKeyInPrograms() throws(XDPError) { state.withLock { $0.installed.append($0.generation) } }
    func refreshTransmitCheck() throws(XDPError) { state.withLock { $0.transmitChecks += 1 } }
}

@Suite struct CookieKeyServiceTests {
    @Test func programsGetTheKeyOnlyAfterTheWorkers() async throws {
        let clock = TestClock()
        let runtime = FakeKeyRuntime(lag: 3)
        let service = CookieKeyService(runtime: runtime, clock: clock, logger: Logger(label: "test"))
        let task = Task { try await service.rotate() }
        for _ in 0..<3 {
            #expect(await clock.waitForSleepers(1))
            #expect(runtime.state.withLock { $0.installed.isEmpty })
            clock.advance(by: .milliseconds(1))
        }
        try await task.value
        #expect(runtime.state.withLock { $0.installed } == [1])
    }
}

@Suite struct EpisodeTrackerTests {
    @Test func oneLineWhenItStartsOneWhenItEnds() {
        var t = EpisodeTracker(quietSamples: 3)
        #expect(t.sample([("drop_no_route", 5)]).isEmpty)  // baseline
        #expect(t.sample([("drop_no_route", 5)]).isEmpty)
        #expect(t.sample([("drop_no_route", 9)]) == [.started(name: "drop_no_route", count: 4)])
        for v: UInt64 in [20, 40, 80] { #expect(t.sample([("drop_no_route", v)]).isEmpty) }
        #expect(t.sample([("drop_no_route", 80)]).isEmpty)
        #expect(t.sample([("drop_no_route", 80)]).isEmpty)
        #expect(t.sample([("drop_no_route", 80)]) == [.ended(name: "drop_no_route", count: 75)])
        #expect(t.sample([("drop_no_route", 80)]).isEmpty)
    }
}

@Suite struct WatchdogServiceTests {
    @Test func pingsOnlyWhileWorkersMoveAndForgivesAProcessPause() async throws {
        let clock = TestClock()
        let beats = Mutex<[UInt64]>([1, 1])
        let pings = Mutex(0)
        // WatchdogSec=2s: a check (and a ping when the workers moved) every second.
        let service = WatchdogService(
            watchdogMicroseconds: 2_000_000, notify: { if $0 == "WATCHDOG=1" { pings.withLock { $0 += 1 } } },
            heartbeats: { beats.withLock { $0 } }, clock: clock, logger: Logger(label: "test"))
        let task = Task { await service.run() }
        defer { task.cancel() }
        func round(after duration: Duration, workers: [UInt64]?) async {
            if let workers { beats.withLock { $0 = workers } }
            clock.advance(by: duration)
            #expect(await clock.waitForSleepers(1))
        }
        #expect(await clock.waitForSleepers(1))
        await round(after: .seconds(1), workers: [2, 2])
        #expect(pings.withLock { $0 } == 1)
        // Worker 1 did not move: no ping; both moved again: a ping, the second in all.
        await round(after: .seconds(1), workers: [3, 2])
        await round(after: .seconds(1), workers: [4, 3])
        #expect(pings.withLock { $0 } == 2)
        // The whole process was stopped for 10 s: not judged (no ping, no stall); half a second on, judged.
        await round(after: .seconds(10), workers: nil)
        await round(after: .milliseconds(500), workers: [5, 4])
        #expect(pings.withLock { $0 } == 3)
    }
}

@Suite struct StallDetectorTests {
    typealias Instant = TestClock.Instant
    func at(_ ms: Int64) -> Instant { Instant(offset: .milliseconds(ms)) }

    @Test func judgesOnlyComparableSamples() {
        var detector = StallDetector<Instant>(interval: .seconds(1))
        let first = detector.sample([1, 1], at: at(0))
        let moved = detector.sample([2, 2], at: at(1000))
        let stuck = detector.sample([3, 2], at: at(2000))
        let afterPause = detector.sample([3, 2], at: at(12_000))
        #expect(first == nil && moved == [] && stuck == [1] && afterPause == nil)
        // Rounds keep their cadence, but a late one is followed by one half an interval on, not a burst.
        #expect(detector.next(after: at(2000), now: at(2001)) == at(3000))
        #expect(detector.next(after: at(3000), now: at(12_000)) == at(12_500))
    }
}

@Suite struct LogLevelControlTests {
    @Test func everyLoggerFollowsTheSharedLevel() {
        let before = LogLevelControl.current
        defer { LogLevelControl.current = before }
        let a = Logger(label: "a", factory: LogLevelControl.handler)
        let b = Logger(label: "b", factory: LogLevelControl.handler)
        LogLevelControl.current = .warning
        #expect(a.logLevel == .warning && b.logLevel == .warning)
        LogLevelControl.current = .debug
        #expect(a.logLevel == .debug && b.logLevel == .debug)
    }
}
