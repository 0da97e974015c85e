// The health table of `sluicectl health`: Sluice's own layout (ipvsadm has none), drawn like ipvsadm's
// so it reads the same way: a line per virtual server with its live servers and quorum, then a line per
// real server with the check's type, state, HAProxy status code, duration, counts and detail. Virtual
// and real servers keep the API's order, the order of the configuration file.

extension IPVSListing {
    /// The health of every real server, by virtual server.
    public static func health(_ services: [VirtualServerStatus]) -> String {
        var lines = [
            [
                "Service".leftJustified(16), "Prot LocalAddress:Port".leftJustified(33), "Live".leftJustified(5),
                "Quorum",
            ]
            .joined(separator: " "),
            healthRow(
                "RemoteAddress:Port", "Admin", "Check", "State", "Status", "Time", "Checks", "Failures", "Detail"),
        ]
        for service in services {
            lines.append(
                [
                    service.name.leftJustified(16), serviceName(service).leftJustified(33),
                    String(service.liveServers).leftJustified(5), String(service.quorum),
                ]
                .joined(separator: " "))
            for server in service.servers {
                let check = server.health
                let time = check.durationMilliseconds.map { "\($0)ms" } ?? "-"
                let detail = ([server.isSorryServer ? "sorry server" : nil, check.detail].compactMap { $0 })
                    .joined(separator: "; ")
                lines.append(
                    healthRow(
                        endpoint(server.address, server.port), server.adminState, check.type, check.state,
                        check.status, time, String(check.checks), String(check.failures), detail))
            }
        }
        return lines.map { $0.trimmingTrailingSpaces() + "\n" }.joined()
    }

    private static func healthRow(
        _ endpoint: String, _ admin: String, _ type: String, _ state: String, _ status: String, _ time: String,
        _ checks: String, _ failures: String, _ detail: String
    ) -> String {
        "  -> " + endpoint.leftJustified(28) + " "
            + [
                admin.leftJustified(5), type.leftJustified(5), state.leftJustified(6), status.leftJustified(7),
                time.rightJustified(7), checks.rightJustified(8), failures.rightJustified(8), detail,
            ]
            .joined(separator: " ")
    }
}
