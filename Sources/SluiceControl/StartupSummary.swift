// What `sluice run` logs once at start-up (and `sluice check` prints): one line per interface
// setting, group and service, each self-contained so that a grep for a VIP or a group name finds
// everything about it. Never per packet.

import SluiceCore

/// Human-readable lines describing a configuration, for the start-up log.
public enum StartupSummary {
    /// One line per fact: interfaces and mode, data plane sizing, each LIP group, each service and
    /// its real servers (indented), then any warnings.
    public static func describe(_ config: SluiceConfiguration) -> [String] {
        var lines: [String] = []
        let interfaces = config.interfaces
        if let table = interfaces.routeTable {
            lines.append("routes from kernel table \(table) alone, ip rules not evaluated (interfaces.route_table)")
        }
        if interfaces.isSingleInterface {
            lines.append(
                "interface \(interfaces.external) (external and internal), xdp mode \(interfaces.xdpMode.rawValue)")
        } else {
            lines.append(
                "interfaces external \(interfaces.external), internal \(interfaces.internal), "
                    + "xdp mode \(interfaces.xdpMode.rawValue)"
            )
        }
        let dp = config.dataplane
        let ports = dp.localPortRange
        let workers = dp.workers == 1 ? "1 worker" : "\(dp.workers) workers"
        let queues = dp.workersConfigured ? "one RX queue each" : "one per RX queue"
        let mss = dp.mssClamp == 0 ? "off" : String(dp.mssClamp)
        lines.append(
            "data plane: \(workers), \(queues), local ports \(ports.lowerBound)-\(ports.upperBound), "
                + "\(dp.connectionCapacity) connections per worker, "
                + "UMEM \(dp.frames) x \(dp.frameSize) bytes per worker, "
                + "mss clamp \(mss), decrement ttl \(dp.decrementTTL ? "on" : "off")"
        )
        if let deferral = dp.napiDeferral {
            lines.append(
                "napi deferral on the served interfaces: napi_defer_hard_irqs \(deferral.hardIRQs), "
                    + "gro_flush_timeout \(deferral.flushTimeoutNanoseconds) ns (put back at stop)")
        }
        for group in config.localAddressGroups {
            let addresses = group.addresses.map { "\($0)" }.joined(separator: ", ")
            lines.append("local address group \(group.name): \(addresses)")
        }
        for server in config.virtualServers {
            let total = server.realServers.reduce(0) { $0 + Int($1.weight) }
            let live = server.realServers.filter { $0.weight > 0 }.count
            var line =
                "virtual server \(server.name): \(server.endpoint), scheduler \(server.scheduler.rawValue), "
                + "\(server.realServers.count) real server\(server.realServers.count == 1 ? "" : "s") "
                + "(\(live) with weight > 0, total weight \(total)), "
                + "local addresses \(server.localAddressGroup) "
                + "(\(config.localAddressGroup(named: server.localAddressGroup)?.addresses.count ?? 0))"
            if server.transport == .tcp {
                line +=
                    ", syn_proxy \(server.synProxy ? "on" : server.synProxyAuto ? "auto" : "off"), "
                    + clientAddress(of: server)
            }
            if let timeout = server.establishTimeout {
                line += ", establish_timeout \(timeout)s"
            }
            if server.persistenceTimeout > 0 {
                line += ", persistence_timeout \(server.persistenceTimeout)s"
                if let mask = server.persistenceNetmask { line += " (clients per /\(mask))" }
            }
            lines.append(line)
            for rs in server.realServers {
                lines.append(
                    "  real server \(ConfigurationVocabulary.endpoint(rs.address, rs.port)) weight \(rs.weight)")
            }
        }
        for warning in config.warnings {
            lines.append("warning: \(warning)")
        }
        return lines
    }

    /// `client_address none`, `client_address toa (option kind 254)`, or
    /// `client_address proxy_protocol_v2 (unique_id, crc32c)` naming the options that are on.
    static func clientAddress(of server: VirtualServer) -> String {
        let options = server.clientAddressOptions
        var text = "client_address \(server.clientAddress.rawValue)"
        switch server.clientAddress {
        case .none:
            break
        case .toa:
            text += " (option kind \(options.toaKind))"
        case .proxyProtocolV1, .proxyProtocolV2:
            let on = [
                ("unique_id", options.uniqueID), ("crc32c", options.crc32c),
                ("send_on_connect", options.sendOnConnect), ("passthrough", options.passthrough),
            ].filter(\.1).map(\.0)
            if !on.isEmpty {
                text += " (\(on.joined(separator: ", ")))"
            }
        }
        return text
    }
}
