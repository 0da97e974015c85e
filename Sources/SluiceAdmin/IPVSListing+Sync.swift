// `sluicectl sync`: the peers of connection sync, one line each, and the totals.

extension IPVSListing {
    /// `PEER  STATE  SILENCE  LIPS` lines under a header, then the totals and refusals.
    public static func sync(_ status: SyncStatus) -> String {
        let width = max(22, status.peers.map(\.endpoint.count).max() ?? 0) + 2
        func pad(_ s: String, _ n: Int) -> String {
            s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count)
        }
        var out = pad("Peer", width) + pad("State", 8) + pad("Silence", 10) + "LIPs\n"
        for p in status.peers {
            let silence =
                p.silenceSeconds.map { seconds -> String in
                    let tenths = Int((max(seconds, 0) * 10).rounded())
                    return "\(tenths / 10).\(tenths % 10)s"
                } ?? "never"
            let lips = p.localAddresses.joined(separator: ",") + (p.adopted ? " (answered here)" : "")
            out += pad(p.endpoint, width) + pad(p.alive ? "alive" : "dead", 8) + pad(silence, 10) + lips + "\n"
        }
        out += "sent: \(status.datagramsSent) datagrams, \(status.recordsSent) records"
        out += " (\(status.recordsDeferred) deferred)\n"
        out += "received: \(status.datagramsReceived) datagrams, \(status.recordsReceived) records\n"
        if !status.refused.isEmpty {
            out +=
                "refused: "
                + status.refused.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
                .joined(separator: ", ") + "\n"
        }
        return out
    }
}
