// The stats file: every counter as `name value`, one per line, rewritten atomically every second
// (Foundation writes a temporary file and renames it) so a reader never sees half a file. Drop
// reasons, data-plane events and gauges, the steering programs' counters (prefixed `xdp_`), the
// netlink mirror's (`netlink_`), and the control plane's (`vs_live_NAME`, `reloads_*`). The path comes
// from the running configuration (so a reload that changes `global.stats_file` applies at once)
// unless the command line fixed it. A write that fails is logged once per episode.

import Foundation
import Logging
import ServiceLifecycle
import SluiceXDP

/// Writes the stats file every second and once more at shutdown.
public struct StatsFileService<C: Clock>: Service where C.Duration == Duration {
    let runtime: DataPlaneRuntime
    let mirror: NetlinkMirror
    let control: ControlPlane
    let fixedPath: String?
    let clock: C
    let logger: Logger
    public static var interval: Duration { .seconds(1) }

    public init(
        runtime: DataPlaneRuntime, mirror: NetlinkMirror, control: ControlPlane, fixedPath: String?, clock: C,
        logger: Logger
    ) {
        self.runtime = runtime
        self.mirror = mirror
        self.control = control
        self.fixedPath = fixedPath
        self.clock = clock
        self.logger = logger
    }

    public func run() async {
        var failing = false
        var next = clock.now.advanced(by: Self.interval)
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let deadline = next
            do {
                try await cancelWhenGracefulShutdown { try await clock.sleep(until: deadline, tolerance: nil) }
            } catch {
                break
            }
            next = next.advanced(by: Self.interval)
            await write(&failing)
        }
        await write(&failing)
    }

    private func write(_ failing: inout Bool) async {
        let state = await control.state
        guard let path = fixedPath ?? state.configuration.global.statsFile else { return }
        var lines: [String] = []
        for (name, value) in runtime.counters().named { lines.append("\(name) \(value)") }
        if let xdp = try? runtime.xdpStats() {
            for (name, value) in xdp.sorted(by: { $0.key < $1.key }) { lines.append("xdp_\(name) \(value)") }
        }
        let netlink = mirror.statistics()
        lines.append("netlink_events \(netlink.events)")
        lines.append("netlink_resyncs \(netlink.resyncs)")
        lines.append("netlink_resolution_requests \(netlink.resolutionRequests)")
        for vs in state.configuration.virtualServers {
            lines.append("vs_live_\(vs.name) \(state.liveCount(of: vs).live)")
        }
        let reloads = await control.reloads
        lines.append("reloads_applied \(reloads.applied)")
        lines.append("reloads_refused \(reloads.refused)")
        let text = lines.joined(separator: "\n") + "\n"
        do {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            if failing { logger.notice("event=stats_file_written path=\(path)") }
            failing = false
        } catch {
            if !failing { logger.error("event=stats_file_failed path=\(path) error=\"\(error.localizedDescription)\"") }
            failing = true
        }
    }
}
