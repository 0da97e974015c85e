// NetlinkMirror against the real kernel, in network namespaces this suite creates (prefix `nl-`) and
// deletes on every path. Root only. Topology per test:
//
//   nl-<test>-a: nla0 10.77.0.1/24 fd77::1/64  ── veth ──  nl-<test>-b: nlb0 10.77.0.2/24 fd77::2/64
//
// The mirror is created on a dedicated thread that first enters namespace a (setns is per thread), so
// it sees nla0 and none of the host's interfaces.

import Foundation
import SluiceCore
import SluicePacket
import SluiceXDP
import Synchronization
import Testing

private struct CommandFailed: Error, CustomStringConvertible {
    var description: String
}

/// Runs a command and returns its standard output; throws with its stderr when it fails.
@discardableResult
private func run(_ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    let errorData = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        let message = String(decoding: errorData, as: UTF8.self)
        throw CommandFailed(description: "\(arguments.joined(separator: " ")): \(message)")
    }
    return String(decoding: data, as: UTF8.self)
}

@discardableResult
private func ip(_ namespace: String, _ arguments: String) throws -> String {
    try run(["ip", "-n", namespace] + arguments.split(separator: " ").map(String.init))
}

private func v4(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32) -> IPAddress {
    IPAddress(v4: a << 24 | b << 16 | c << 8 | d)
}

private func fd(_ prefix: UInt64, _ low: UInt64) -> IPAddress { IPAddress(v6High: prefix << 48, low: low) }

/// Polls `condition` every 5 ms until it holds or `seconds` pass.
private func eventually(within seconds: Double = 5.0, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(5000)
    }
    return condition()
}

/// Two namespaces joined by a veth pair, deleted by `delete()` (and by `init` when it fails).
private struct Topology {
    let a: String
    let b: String

    init(_ name: String) throws {
        a = "nl-\(name)-a"
        b = "nl-\(name)-b"
        delete()
        do {
            try run(["ip", "netns", "add", a])
            try run(["ip", "netns", "add", b])
            for namespace in [a, b] {
                // No duplicate address detection: the IPv6 addresses are usable at once.
                try run(["ip", "netns", "exec", namespace, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0"])
                try run(["ip", "netns", "exec", namespace, "sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0"])
            }
            try ip(a, "link add nla0 type veth peer name nlb0 netns \(b)")
            try ip(a, "link set lo up")
            try ip(b, "link set lo up")
            try ip(a, "addr add 10.77.0.1/24 dev nla0")
            try ip(a, "addr add fd77::1/64 dev nla0 nodad")
            try ip(b, "addr add 10.77.0.2/24 dev nlb0")
            try ip(b, "addr add fd77::2/64 dev nlb0 nodad")
            try ip(a, "link set nla0 up")
            try ip(b, "link set nlb0 up")
        } catch {
            delete()
            throw error
        }
    }

    func delete() {
        _ = try? run(["ip", "netns", "del", a])
        _ = try? run(["ip", "netns", "del", b])
    }

    /// ifindex, MAC and MTU of `device` in `namespace`, from `ip -j link`.
    func link(_ device: String, in namespace: String) throws -> (index: Int32, mac: MACAddress, mtu: Int) {
        let json = try ip(namespace, "-j link show \(device)")
        let objects = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]]
        guard let object = objects?.first, let index = object["ifindex"] as? Int, let mtu = object["mtu"] as? Int,
            let address = object["address"] as? String
        else { throw CommandFailed(description: "unexpected ip -j output: \(json)") }
        let octets = address.split(separator: ":").compactMap { UInt8($0, radix: 16) }
        guard octets.count == 6 else { throw CommandFailed(description: "bad MAC \(address)") }
        let mac = MACAddress(octets[0], octets[1], octets[2], octets[3], octets[4], octets[5])
        return (Int32(index), mac, mtu)
    }
}

/// Holds a result across threads.
private final class Outcome: Sendable {
    let value = Mutex<Result<NetlinkMirror, XDPError>?>(nil)
}

/// Starts a mirror on a new thread that first enters `namespace`.
private func startMirror(
    in namespace: String, configuration: NetlinkMirror.Configuration = NetlinkMirror.Configuration()
) throws -> NetlinkMirror {
    let outcome = Outcome()
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
        let result = Result { () throws(XDPError) -> NetlinkMirror in
            try NetlinkNamespace.enter(named: namespace)
            return try NetlinkMirror(configuration: configuration)
        }
        outcome.value.withLock { $0 = result }
        done.signal()
    }
    thread.start()
    done.wait()
    return try outcome.value.withLock { $0! }.get()
}

@Suite(.serialized, .enabled(if: getuid() == 0, "creates network namespaces: needs root"))
struct NetlinkMirrorTests {
    @Test func theInitialDumpSeesInterfacesRoutesAndNeighbours() throws {
        let topology = try Topology("dump")
        defer { topology.delete() }
        try ip(topology.a, "link set nla0 mtu 1400")
        try ip(topology.a, "route add 10.88.0.0/16 via 10.77.0.2 metric 50")
        try ip(topology.a, "route add 10.88.0.0/16 via 10.77.0.3 metric 60")
        try ip(topology.a, "route add blackhole 10.90.0.0/16")
        try ip(topology.a, "route add default via 10.77.0.254")
        try ip(topology.a, "-6 route add fd88::/32 via fd77::2")
        try ip(topology.a, "neigh replace 10.77.0.9 lladdr 02:00:00:00:00:09 dev nla0 nud permanent")
        try ip(topology.a, "neigh replace fd77::9 lladdr 02:00:00:00:00:0a dev nla0 nud stale")
        let nla0 = try topology.link("nla0", in: topology.a)

        let mirror = try startMirror(in: topology.a)
        defer { mirror.stop() }
        let view = mirror.snapshot()
        #expect(view.generation == 1 && mirror.currentGeneration() == 1)
        #expect(mirror.interfaceIndex(named: "nla0") == nla0.index)
        #expect(mirror.interfaceIndex(named: "nlb0") == nil)
        #expect(view.interface(nla0.index) == InterfaceInfo(index: nla0.index, mac: nla0.mac, mtu: 1400))
        #expect(view.interface(1)?.mtu == 65536)  // this namespace's loopback
        #expect(view.interfaces.count == 2)

        let connected = NextHop(interfaceIndex: nla0.index, address: v4(10, 77, 0, 5), mtu: 1400)
        #expect(view.nextHop(to: v4(10, 77, 0, 5)) == connected)
        #expect(view.nextHop(to: v4(10, 88, 1, 1))?.address == v4(10, 77, 0, 2))
        #expect(view.nextHop(to: v4(10, 90, 1, 1)) == nil)
        #expect(view.nextHop(to: v4(192, 0, 2, 1))?.address == v4(10, 77, 0, 254))
        #expect(view.nextHop(to: fd(0xFD88, 1))?.address == fd(0xFD77, 2))
        #expect(view.nextHop(to: fd(0xFD77, 5))?.address == fd(0xFD77, 5))
        #expect(view.nextHop(to: fd(0xFD99, 5)) == nil)
        // Local and broadcast routes live in table local: not mirrored.
        #expect(!view.routes.contains { $0.prefix == v4(10, 77, 0, 1) && $0.prefixLength == 32 })

        #expect(view.neighbour(v4(10, 77, 0, 9), on: nla0.index) == MACAddress(2, 0, 0, 0, 0, 9))
        #expect(view.neighbour(fd(0xFD77, 9), on: nla0.index) == MACAddress(2, 0, 0, 0, 0, 0x0A))
        #expect(view.neighbour(v4(10, 77, 0, 2), on: nla0.index) == nil)
    }

    @Test func changesArePublishedWithinASecond() throws {
        let topology = try Topology("events")
        defer { topology.delete() }
        let nla0 = try topology.link("nla0", in: topology.a).index
        let mirror = try startMirror(in: topology.a)
        defer { mirror.stop() }
        let start = mirror.currentGeneration()
        let destination = v4(10, 99, 1, 1)
        #expect(mirror.snapshot().nextHop(to: destination) == nil)

        try ip(topology.a, "route add 10.99.0.0/16 via 10.77.0.2")
        #expect(eventually { mirror.snapshot().nextHop(to: destination)?.address == v4(10, 77, 0, 2) })
        #expect(mirror.currentGeneration() > start)

        try ip(topology.a, "route replace 10.99.0.0/16 via 10.77.0.3")
        #expect(eventually { mirror.snapshot().nextHop(to: destination)?.address == v4(10, 77, 0, 3) })

        try ip(topology.a, "neigh replace 10.77.0.50 lladdr 02:00:00:00:00:50 dev nla0 nud reachable")
        let mac = MACAddress(2, 0, 0, 0, 0, 0x50)
        #expect(eventually { mirror.snapshot().neighbour(v4(10, 77, 0, 50), on: nla0) == mac })
        try ip(topology.a, "neigh del 10.77.0.50 dev nla0")
        #expect(eventually { mirror.snapshot().neighbour(v4(10, 77, 0, 50), on: nla0) == nil })

        try ip(topology.a, "-6 route add fd99::/64 dev nla0")
        #expect(eventually { mirror.snapshot().nextHop(to: fd(0xFD99, 7))?.address == fd(0xFD99, 7) })

        try ip(topology.a, "route del 10.99.0.0/16")
        #expect(eventually { mirror.snapshot().nextHop(to: destination) == nil })

        try ip(topology.a, "link add nld0 type veth peer name nld1")
        #expect(eventually { mirror.interfaceIndex(named: "nld0") != nil })
        try ip(topology.a, "link del nld0")
        #expect(eventually { mirror.interfaceIndex(named: "nld0") == nil })

        try ip(topology.a, "link set nla0 mtu 1300")
        #expect(eventually { mirror.snapshot().nextHop(to: v4(10, 77, 0, 2))?.mtu == 1300 })

        // Taking the link down flushes its IPv4 routes without any RTM_DELROUTE: the mirror must notice.
        try ip(topology.a, "link set nla0 down")
        #expect(eventually { mirror.snapshot().nextHop(to: v4(10, 77, 0, 2)) == nil })
        #expect(mirror.statistics().resyncs >= 1)
        #expect(mirror.statistics().errors == 0)
    }

    @Test func resolutionRequestsMakeTheKernelResolve() throws {
        let topology = try Topology("resolve")
        defer { topology.delete() }
        let nla0 = try topology.link("nla0", in: topology.a).index
        let peer = try topology.link("nlb0", in: topology.b).mac
        let mirror = try startMirror(in: topology.a)
        defer { mirror.stop() }
        #expect(try ip(topology.a, "neigh show 10.77.0.2 dev nla0").isEmpty)

        // The peer owns 10.77.0.2: one request and the kernel's ARP exchange fills the entry.
        #expect(mirror.requestResolution(address: v4(10, 77, 0, 2), interfaceIndex: nla0))
        #expect(eventually { mirror.snapshot().neighbour(v4(10, 77, 0, 2), on: nla0) == peer })
        #expect(try ip(topology.a, "neigh show 10.77.0.2 dev nla0").contains("REACHABLE"))
        // Asking again at once is rate-limited.
        #expect(!mirror.requestResolution(address: v4(10, 77, 0, 2), interfaceIndex: nla0))

        // Neighbour solicitation for IPv6.
        #expect(mirror.requestResolution(address: fd(0xFD77, 2), interfaceIndex: nla0))
        #expect(eventually { mirror.snapshot().neighbour(fd(0xFD77, 2), on: nla0) == peer })

        // Nobody owns 10.77.0.3: the kernel probes (INCOMPLETE; it announces the entry only once it
        // turns FAILED, about 3 s later) and the view has no MAC for it.
        let orphan = v4(10, 77, 0, 3)
        #expect(mirror.requestResolution(address: orphan, interfaceIndex: nla0))
        #expect(eventually { (try? ip(topology.a, "neigh show 10.77.0.3 dev nla0"))?.contains("INCOMPLETE") == true })
        #expect(mirror.snapshot().neighbour(orphan, on: nla0) == nil)

        // Once the peer takes the address, the kernel's next probe (or a new request) resolves it.
        try ip(topology.b, "addr add 10.77.0.3/24 dev nlb0")
        usleep(600_000)
        #expect(mirror.requestResolution(address: orphan, interfaceIndex: nla0))
        #expect(eventually(within: 10) { mirror.snapshot().neighbour(orphan, on: nla0) == peer })

        // A refused request (no such interface) is counted, not thrown, and never blocks the caller.
        #expect(mirror.requestResolution(address: v4(10, 77, 0, 4), interfaceIndex: 9999))
        #expect(eventually { mirror.statistics().resolutionFailures == 1 })
        let statistics = mirror.statistics()
        #expect(statistics.resolutionRequests == 4 && statistics.resolutionsRateLimited == 1)
    }

    @Test func resolutionRequestsAfterStopAreRefused() throws {
        let topology = try Topology("refuse")
        defer { topology.delete() }
        let mirror = try startMirror(in: topology.a)
        mirror.stop()
        #expect(!mirror.requestResolution(address: v4(10, 77, 0, 2), interfaceIndex: 2))
    }

    @Test func lostEventsAreRepairedByADump() throws {
        let topology = try Topology("overrun")
        defer { topology.delete() }
        // A tiny event buffer so that a burst of changes overflows it (ENOBUFS).
        let mirror = try startMirror(in: topology.a, configuration: .init(eventBufferSize: 1))
        defer { mirror.stop() }
        // Ten thousand events: the smallest buffer the kernel allows holds a few dozen, so the burst
        // overflows it even when the mirror's thread is scheduled promptly (with a thousand it could
        // keep up on an idle machine, and then there was nothing to repair).
        let count = 10_000
        let batch = (0..<count).map { "route add 10.100.\($0 / 250).\($0 % 250)/32 via 10.77.0.2" }.joined(
            separator: "\n")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("nl-overrun-\(getpid()).batch")
        try batch.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        try run(["ip", "-n", topology.a, "-batch", file.path])
        #expect(
            eventually(within: 10) {
                let view = mirror.snapshot()
                return stride(from: 0, to: count, by: 7).allSatisfy {
                    view.nextHop(to: v4(10, 100, UInt32($0 / 250), UInt32($0 % 250))) != nil
                } && view.nextHop(to: v4(10, 100, UInt32((count - 1) / 250), UInt32((count - 1) % 250))) != nil
            })
        #expect(mirror.statistics().resyncs >= 1)
    }

    @Test func aTablePushIsPublishedInFewSnapshotsAndCompletely() throws {
        let topology = try Topology("storm")
        defer { topology.delete() }
        // A hold-down long enough that the test's machine cannot slip a snapshot between every change.
        let mirror = try startMirror(in: topology.a, configuration: .init(publishHoldDown: .milliseconds(50)))
        defer { mirror.stop() }
        let start = mirror.currentGeneration()
        let count = 5000
        let batch = (0..<count).map { "route add 10.101.\($0 / 250).\($0 % 250)/32 via 10.77.0.2" }.joined(
            separator: "\n")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("nl-storm-\(getpid()).batch")
        try batch.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let pushed = Date()
        try run(["ip", "-n", topology.a, "-batch", file.path])
        #expect(
            eventually(within: 10) {
                let view = mirror.snapshot()
                return (0..<count).allSatisfy {
                    view.nextHop(to: v4(10, 101, UInt32($0 / 250), UInt32($0 % 250))) != nil
                }
            })
        // Thousands of events, few snapshots: at most one per hold-down while they kept coming (plus the
        // first, at once, and the last, after the storm).
        let elapsed = Date().timeIntervalSince(pushed)
        let snapshots = mirror.currentGeneration() - start
        #expect(snapshots >= 1 && Double(snapshots) <= elapsed / 0.05 + 2, "\(snapshots) snapshots in \(elapsed) s")
    }

    @Test func ipRulesAreFollowedAndEvaluated() throws {
        let topology = try Topology("rules")
        defer { topology.delete() }
        try ip(topology.a, "route add 10.98.0.0/16 via 10.77.0.2 table 100")
        try ip(topology.a, "-6 route add fd98::/32 via fd77::2 table 100")
        let mirror = try startMirror(in: topology.a)
        defer { mirror.stop() }
        let lip = RouteQuery(source: v4(10, 20, 0, 240))
        let lip6 = RouteQuery(source: fd(0xFD20, 0x240))
        // The kernel's default rules were dumped; table 100 is mirrored but no rule reaches it yet.
        #expect(mirror.snapshot().rules.map(\.priority) == [0, 32766, 32767, 0, 32766])
        #expect(mirror.snapshot().nextHop(to: v4(10, 98, 0, 1), query: lip) == nil)

        try ip(topology.a, "rule add from 10.20.0.0/24 table 100 priority 100")
        try ip(topology.a, "-6 rule add from fd20::/16 table 100 priority 100")
        #expect(
            eventually { mirror.snapshot().nextHop(to: v4(10, 98, 0, 1), query: lip)?.address == v4(10, 77, 0, 2) })
        #expect(eventually { mirror.snapshot().nextHop(to: fd(0xFD98, 1), query: lip6)?.address == fd(0xFD77, 2) })
        // Another source does not match the rule.
        #expect(mirror.snapshot().nextHop(to: v4(10, 98, 0, 1), query: RouteQuery(source: v4(10, 21, 0, 1))) == nil)

        try ip(topology.a, "rule del from 10.20.0.0/24 table 100 priority 100")
        #expect(eventually { mirror.snapshot().nextHop(to: v4(10, 98, 0, 1), query: lip) == nil })
        #expect(mirror.snapshot().nextHop(to: fd(0xFD98, 1), query: lip6) != nil)

        // suppress_ifgroup: with nla0 in group 7, table 100's route through it is refused.
        let nla0 = try topology.link("nla0", in: topology.a).index
        try ip(topology.a, "link set nla0 group 7")
        #expect(eventually { mirror.snapshot().interface(nla0)?.group == 7 })
        try ip(topology.a, "-6 rule add from fd20::/16 table 100 suppress_ifgroup 7 priority 50")
        try ip(topology.a, "-6 rule del from fd20::/16 table 100 priority 100")
        #expect(eventually { mirror.snapshot().nextHop(to: fd(0xFD98, 1), query: lip6) == nil })
        #expect(mirror.statistics().errors == 0)
    }

    @Test func aNamedTableIsRoutedByWithoutRules() throws {
        let topology = try Topology("table")
        defer { topology.delete() }
        try ip(topology.a, "route add 10.98.0.0/16 via 10.77.0.2 table 100")
        try ip(topology.a, "rule add from 10.20.0.0/24 table 100 priority 100")
        let mirror = try startMirror(in: topology.a, configuration: .init(table: 100))
        defer { mirror.stop() }
        // Table 100 alone: its route for any source, main's connected route not at all.
        #expect(mirror.snapshot().nextHop(to: v4(10, 98, 0, 1))?.address == v4(10, 77, 0, 2))
        #expect(mirror.snapshot().nextHop(to: v4(10, 77, 0, 2)) == nil)
    }

    @Test func stopEndsPublishing() throws {
        let topology = try Topology("stop")
        defer { topology.delete() }
        let mirror = try startMirror(in: topology.a)
        mirror.stop()
        mirror.stop()
        let generation = mirror.currentGeneration()
        try ip(topology.a, "route add 10.99.0.0/16 via 10.77.0.2")
        usleep(300_000)
        #expect(mirror.currentGeneration() == generation)
        #expect(mirror.snapshot().nextHop(to: v4(10, 99, 0, 1)) == nil)
    }
}
