// ipvsadm's listings rendered from the admin API's model, so that operators and their scripts read
// Sluice as they read IPVS. The layouts are ipvsadm 1.31's (print_title, print_service_entry,
// print_largenum) character for character, trailing padding included, and so is the order (sorted as
// libipvs sorts, see EndpointOrder). What differs, on purpose: the first line names Sluice instead of
// the kernel's IPVS version and table size (there is no kernel table); the Forward column says FullNat
// (dpvs's name for the method, Sluice's only one); Sluice's flags follow the scheduler as dpvs prints
// its own (synproxy, toa, ppv1, ppv2); and the plain listing may end each real server's line with a
// Health column, after every ipvsadm column so that scripts reading columns by position still work.

/// Text listings of the admin API's answers in the layouts of ipvsadm and dpvs.
public enum IPVSListing {
    /// The first line, where ipvsadm prints `IP Virtual Server version 1.2.1 (size=4096)`.
    public static func titleLine(serviceCount: Int) -> String {
        "Sluice Virtual Server (services=\(serviceCount))"
    }

    /// `ipvsadm -Ln`, `-Ln --stats` or `-Ln --rate`; `exact` is `--exact` (no K/M/G/T scaling).
    /// `health` adds the Health column to the plain layout (the others have no room for it).
    public static func services(
        _ services: [VirtualServerStatus], layout: Layout = .plain, exact: Bool = false, health: Bool = false
    ) -> String {
        var lines = [titleLine(serviceCount: services.count)]
        lines += header(layout: layout, health: health && layout == .plain)
        for service in services.sorted(by: { order($0) < order($1) }) {
            lines.append(serviceLine(service, layout: layout, exact: exact))
            for server in service.servers.sorted(by: { order($0) < order($1) }) {
                lines.append(serverLine(server, layout: layout, exact: exact, health: health))
            }
        }
        return lines.map { $0 + "\n" }.joined()
    }

    /// The Health column: the checker's state, HAProxy's code of the last check (none for a server
    /// without checks), then whatever keeps a healthy server from taking connections.
    public static func healthText(_ server: RealServerStatus) -> String {
        var words = [server.health.state]
        if server.health.state != "static" { words.append(server.health.status) }
        if server.adminState != "ready" { words.append(server.adminState) }
        if server.isSorryServer { words.append("sorry") }
        return words.joined(separator: " ")
    }

    static func header(layout: Layout, health: Bool) -> [String] {
        switch layout {
        case .plain:
            return [
                "Prot LocalAddress:Port Scheduler Flags",
                "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn" + (health ? "  Health" : ""),
            ]
        case .stats:
            return [counterHeader(["Conns", "InPkts", "OutPkts", "InBytes", "OutBytes"]), "  -> RemoteAddress:Port"]
        case .rate:
            return [counterHeader(["CPS", "InPPS", "OutPPS", "InBPS", "OutBPS"]), "  -> RemoteAddress:Port"]
        }
    }

    private static func counterHeader(_ names: [String]) -> String {
        "Prot LocalAddress:Port".leftJustified(33) + names.map { " " + $0.rightJustified(8) }.joined()
    }

    /// `TCP  10.0.0.1:80`: the protocol in four columns and a space.
    static func serviceName(_ service: VirtualServerStatus) -> String {
        let name = protocolName(service.protocol).leftJustified(4) + " " + endpoint(service.vip, service.port)
        // ipvsadm cuts an IPv4 service name at 33 characters (no address:port is that long).
        return isIPv6(service.vip) ? name : String(name.prefix(33))
    }

    static func serviceLine(_ service: VirtualServerStatus, layout: Layout, exact: Bool) -> String {
        let name = serviceName(service)
        switch layout {
        case .plain:
            return name + " " + service.scheduler + persistence(service)
                + service.flags.map { " " + flagName($0) }.joined()
        case .stats:
            let s = service.stats
            return name.leftJustified(33)
                + [s.connections, s.inPackets, s.outPackets, s.inBytes, s.outBytes]
                .map { largeNumber($0, exact: exact) }.joined()
        case .rate:
            let r = service.rate
            return name.leftJustified(33)
                + [
                    r.connectionsPerSecond, r.inPacketsPerSecond, r.outPacketsPerSecond, r.inBytesPerSecond,
                    r.outBytesPerSecond,
                ]
                .map { largeNumber($0, exact: exact) }.joined()
        }
    }

    static func serverLine(_ server: RealServerStatus, layout: Layout, exact: Bool, health: Bool) -> String {
        var name = endpoint(server.address, server.port)
        // ipvsadm cuts an IPv4 real server at 28 characters (no address:port is that long).
        if !isIPv6(server.address) { name = String(name.prefix(28)) }
        let prefix = "  -> " + name.leftJustified(28)
        switch layout {
        case .plain:
            let line =
                prefix + " " + "FullNat".leftJustified(7) + " " + String(server.weight).leftJustified(6) + " "
                + String(server.activeConnections).leftJustified(10) + " "
                + String(server.inactiveConnections).leftJustified(10)
            return health ? line + " " + healthText(server) : line
        case .stats:
            let s = server.stats
            return prefix
                + [s.connections, s.inPackets, s.outPackets, s.inBytes, s.outBytes]
                .map { largeNumber($0, exact: exact) }.joined()
        case .rate:
            // ipvsadm prints a real server's CPS, InPPS and OutPPS with %8llu, never scaled.
            let r = server.rate
            return prefix
                + [r.connectionsPerSecond, r.inPacketsPerSecond, r.outPacketsPerSecond]
                .map { " " + String($0).rightJustified(8) }.joined()
                + largeNumber(r.inBytesPerSecond, exact: exact) + largeNumber(r.outBytesPerSecond, exact: exact)
        }
    }

    /// ` persistent 300`, with ` mask 255.255.255.0` (IPv4) or ` mask 64` (IPv6) for a client
    /// network, as ipvsadm prints them; empty without persistence.
    static func persistence(_ service: VirtualServerStatus) -> String {
        guard let timeout = service.persistenceTimeout else { return "" }
        var text = " persistent \(timeout)"
        let v6 = isIPv6(service.vip)
        if let prefix = service.persistenceNetmask, prefix != (v6 ? 128 : 32) {
            if v6 {
                text += " mask \(prefix)"
            } else {
                let mask = prefix == 0 ? UInt32(0) : UInt32.max << (32 - UInt32(prefix))
                text += " mask " + [24, 16, 8, 0].map { String((mask >> UInt32($0)) & 0xFF) }.joined(separator: ".")
            }
        }
        return text
    }

    /// The model's flag names as dpvs's ipvsadm prints them after the scheduler.
    static func flagName(_ flag: String) -> String {
        switch flag {
        case "mh_fallback": "mh-fallback"
        case "mh_port": "mh-port"
        case "syn_proxy": "synproxy"
        case "proxy_protocol_v1": "ppv1"
        case "proxy_protocol_v2": "ppv2"
        default: flag
        }
    }

    private static func order(_ service: VirtualServerStatus) -> EndpointOrder {
        EndpointOrder(protocol: service.protocol, address: service.vip, port: service.port)
    }

    private static func order(_ server: RealServerStatus) -> EndpointOrder {
        EndpointOrder(address: server.address, port: server.port)
    }
}
