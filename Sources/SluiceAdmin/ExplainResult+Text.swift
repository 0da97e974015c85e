// `sluicectl explain` as text: the virtual server, the live connection that owns the tuple (packets of
// that tuple go where it goes), and where a new flow would go now, or why it would be dropped.

extension ExplainResult {
    /// Three lines: service, connection, new flow.
    public var text: String {
        var lines = ["service:    " + (service ?? "none (no virtual server at this address, port and protocol)")]
        if let entry = connection {
            lines.append(
                "connection: \(IPVSListing.protocolName(entry.protocol)) \(entry.state), expires "
                    + IPVSListing.expiry(milliseconds: entry.expiresInMilliseconds) + ", "
                    + IPVSListing.endpoint(entry.client, entry.clientPort) + " -> "
                    + IPVSListing.endpoint(entry.vip, entry.vport) + ", local "
                    + IPVSListing.endpoint(entry.local, entry.localPort) + " -> "
                    + IPVSListing.endpoint(entry.server, entry.serverPort) + ", worker \(entry.worker)")
        } else {
            lines.append("connection: none")
        }
        if let server, let serverPort {
            let from = local.map { IPVSListing.endpoint($0, localPort ?? 0) + " -> " } ?? ""
            lines.append(
                "new flow:   " + from + IPVSListing.endpoint(server, serverPort) + (rule.map { ", by \($0)" } ?? ""))
        } else {
            lines.append("new flow:   dropped (\(reason ?? "no reason given"))")
        }
        return lines.map { $0 + "\n" }.joined()
    }
}
