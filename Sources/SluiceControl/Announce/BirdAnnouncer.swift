// BIRD 2 as the announcement backend: the VIPs go into include files, one `route VIP/32 blackhole;`
// per IPv4 VIP in `include_file` and one `route VIP/128 blackhole;` per IPv6 VIP in `include_file6`
// (a BIRD static protocol has one channel, so each family needs its own), which the operator's BIRD
// configuration includes inside a `protocol static` each; after each change Sluice sends `configure`
// on BIRD's control socket. Every gateway writes identical routes,
// so BIRD on the routers sees equivalent routes and merges them into ECMP. The file is replaced
// atomically (written aside, then renamed), so BIRD never reads half of it.

import Foundation
import SluicePacket

/// Announces VIPs through BIRD's include file and `configure`.
public actor BirdAnnouncer: RouteAnnouncer {
    let controlSocket: String
    let includeFile: String
    let includeFile6: String
    private var applied: [IPAddress]?

    public init(controlSocket: String, includeFile: String, includeFile6: String) {
        self.controlSocket = controlSocket
        self.includeFile = includeFile
        self.includeFile6 = includeFile6
    }

    /// The include file's text for `vips`.
    public static func includeText(_ vips: [IPAddress]) -> String {
        var text = "# Written by sluice: the VIPs this gateway announces. Include it inside a protocol static.\n"
        for vip in vips { text += "route \(vip)/\(vip.isV6 ? 128 : 32) blackhole;\n" }
        return text
    }

    public func apply(_ vips: [IPAddress]) async throws {
        let texts = [
            (includeFile, Self.includeText(vips.filter { !$0.isV6 })),
            (includeFile6, Self.includeText(vips.filter(\.isV6))),
        ]
        // The files, not only this actor's memory, are compared: the crash guard empties them when this
        // process stops beating, and they must be written again once it runs.
        let current = texts.allSatisfy { (try? String(contentsOfFile: $0.0, encoding: .utf8)) == $0.1 }
        guard vips != applied || !current else { return }
        for (file, text) in texts { try text.write(toFile: file, atomically: true, encoding: .utf8) }
        applied = nil  // until BIRD has taken it
        _ = try await BirdControl.run("configure", socket: controlSocket)
        applied = vips
    }
}
