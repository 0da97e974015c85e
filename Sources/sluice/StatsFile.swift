// The stats file: every counter as `name value`, one per line, rewritten atomically (Foundation
// writes a temporary file and renames it) so that a reader never sees half a file. Drop reasons, data-plane
// events, gauges, the steering program's per-reason counters (prefixed `xdp_`) and the netlink
// mirror's counters (prefixed `netlink_`).

import Foundation
import SluiceXDP

enum StatsFile {
    static func write(runtime: DataPlaneRuntime, mirror: NetlinkMirror, to path: String) {
        var lines: [String] = []
        for (name, value) in runtime.counters().named { lines.append("\(name) \(value)") }
        if let xdp = try? runtime.xdpStats() {
            for (name, value) in xdp.sorted(by: { $0.key < $1.key }) { lines.append("xdp_\(name) \(value)") }
        }
        let netlink = mirror.statistics()
        lines.append("netlink_events \(netlink.events)")
        lines.append("netlink_resyncs \(netlink.resyncs)")
        lines.append("netlink_resolution_requests \(netlink.resolutionRequests)")
        let text = lines.joined(separator: "\n") + "\n"
        try? text.write(toFile: path, atomically: true, encoding: .utf8)
    }
}
