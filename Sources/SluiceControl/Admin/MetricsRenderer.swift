// The Prometheus exposition, rendered by swift-prometheus from a registry built afresh for every
// scrape (so servers removed by a reload leave no stale series, and counters are the data plane's
// totals, not deltas to keep in step). Names: node_exporter's IPVS metrics for the backends, so
// existing dashboards work, and `sluice_*` for the rest. No label ever carries a client address.

import Prometheus
import SluiceAdmin
import SluiceCore

/// Renders one scrape.
public enum MetricsRenderer {
    /// Everything a scrape shows, gathered by the caller.
    public struct Inputs: Sendable {
        public var services: [VirtualServerStatus]
        public var counters: [(name: String, value: UInt64)]
        public var localAddresses: [LocalAddressUsage]
        public var lastProgress: [Double]
        public var lastReloadSucceeded: Bool
        public var lastReloadSuccess: Double
        public var version: String
        /// The announcer's latest decision per VIP.
        public var announcements: [VIPAnnouncement] = []
        /// Connection sync's latest status; nil while sync is off.
        public var sync: SyncStatus?

        public init(
            services: [VirtualServerStatus], counters: [(name: String, value: UInt64)],
            localAddresses: [LocalAddressUsage], lastProgress: [Double], lastReloadSucceeded: Bool,
            lastReloadSuccess: Double, version: String
        ) {
            self.services = services
            self.counters = counters
            self.localAddresses = localAddresses
            self.lastProgress = lastProgress
            self.lastReloadSucceeded = lastReloadSucceeded
            self.lastReloadSuccess = lastReloadSuccess
            self.version = version
        }
    }

    /// The whole name as the metric name (the unit, when there is one, is already part of it).
    static func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    public static func render(_ inputs: Inputs) -> String {
        let registry = PrometheusCollectorRegistry()
        func counter(_ name: String, _ help: String, _ labels: [(String, String)], _ value: UInt64) {
            registry.makeCounter(descriptor: descriptor(name, help), labels: labels).increment(
                by: Int64(clamping: value))
        }
        func gauge(_ name: String, _ help: String, _ labels: [(String, String)], _ value: Double) {
            registry.makeGauge(descriptor: descriptor(name, help), labels: labels).set(value)
        }
        var totals = TrafficStats()
        for vs in inputs.services {
            let vsLabels = [("name", vs.name), ("vip", vs.vip), ("port", String(vs.port)), ("proto", vs.protocol)]
            gauge("sluice_vs_live_servers", "Real servers taking new connections.", vsLabels, Double(vs.liveServers))
            gauge(
                "sluice_vs_below_quorum", "1 while fewer real servers are live than the quorum.", vsLabels,
                vs.liveServers < vs.quorum ? 1 : 0)
            for rs in vs.servers {
                totals.add(rs.stats)
                let backend = [
                    ("local_address", vs.vip), ("local_port", String(vs.port)), ("remote_address", rs.address),
                    ("remote_port", String(rs.port)), ("proto", vs.protocol.uppercased()),
                ]
                gauge(
                    "node_ipvs_backend_connections_active",
                    "The current active connections by local and remote address.",
                    backend, Double(rs.activeConnections))
                gauge(
                    "node_ipvs_backend_connections_inactive",
                    "The current inactive connections by local and remote address.", backend,
                    Double(rs.inactiveConnections))
                gauge(
                    "node_ipvs_backend_weight", "The current backend weight by local and remote address.", backend,
                    Double(rs.weight))
                let labels = backend + [("vs", vs.name)]
                counter(
                    "sluice_backend_connections_total", "Connections scheduled to the real server.", labels,
                    rs.stats.connections)
                counter(
                    "sluice_backend_incoming_packets_total", "Packets from clients to the real server.", labels,
                    rs.stats.inPackets)
                counter(
                    "sluice_backend_outgoing_packets_total", "Packets from the real server to clients.", labels,
                    rs.stats.outPackets)
                counter(
                    "sluice_backend_incoming_bytes_total", "Bytes from clients to the real server.", labels,
                    rs.stats.inBytes)
                counter(
                    "sluice_backend_outgoing_bytes_total", "Bytes from the real server to clients.", labels,
                    rs.stats.outBytes)
                for state in ["up", "down", "static"] {
                    gauge(
                        "sluice_backend_health", "1 for the real server's health state (up, down, static).",
                        labels + [("state", state)], rs.health.state == state ? 1 : 0)
                }
                gauge(
                    "sluice_backend_check_status", "1 for the HAProxy code of the last check.",
                    labels + [("state", rs.health.status)], 1)
                gauge(
                    "sluice_backend_check_duration_seconds", "Duration of the last check.", labels,
                    Double(rs.health.durationMilliseconds ?? 0) / 1000)
                counter("sluice_backend_checks_total", "Checks run.", labels, rs.health.checks)
                counter("sluice_backend_check_failures_total", "Checks failed.", labels, rs.health.failures)
                for state in ["ready", "drain", "maint"] {
                    gauge(
                        "sluice_backend_admin_state", "1 for the real server's admin state.",
                        labels + [("state", state)],
                        rs.adminState == state ? 1 : 0)
                }
            }
        }
        counter("node_ipvs_connections_total", "The total number of connections made.", [], totals.connections)
        counter("node_ipvs_incoming_packets_total", "The total number of incoming packets.", [], totals.inPackets)
        counter("node_ipvs_outgoing_packets_total", "The total number of outgoing packets.", [], totals.outPackets)
        counter("node_ipvs_incoming_bytes_total", "The total amount of incoming data.", [], totals.inBytes)
        counter("node_ipvs_outgoing_bytes_total", "The total amount of outgoing data.", [], totals.outBytes)

        let gauges = Set(Counters.Gauge.allCases.map { Counters.snakeCase("\($0)") })
        for (name, value) in inputs.counters {
            if name.hasPrefix("drop_") {
                counter(
                    "sluice_drops_total", "Frames dropped, by reason.", [("reason", String(name.dropFirst(5)))], value)
            } else if name.hasPrefix("xdp_") {
                let key = String(name.dropFirst(4))
                if key == "syn_answering" {
                    gauge("sluice_xdp_syn_answering", "Interfaces whose XDP program answers SYNs.", [], Double(value))
                } else {
                    counter(
                        "sluice_xdp_events_total", "Events counted by the XDP steering program.", [("event", key)],
                        value)
                }
            } else if gauges.contains(name) {
                gauge("sluice_dataplane_\(name)", "Data-plane level \(name).", [], Double(value))
            } else if name.hasPrefix("syn_proxy_") {
                counter(
                    "sluice_synproxy_events_total", "SYN-proxy events.", [("event", String(name.dropFirst(10)))], value)
            } else {
                counter("sluice_dataplane_events_total", "Data-plane events.", [("event", name)], value)
            }
        }
        for lip in inputs.localAddresses {
            let labels = [("laddr", lip.address), ("group", lip.group)]
            gauge("sluice_laddr_ports_used", "Local ports in use on the LIP.", labels, Double(lip.portsUsed))
            gauge("sluice_laddr_ports_free", "Local ports free on the LIP.", labels, Double(lip.portsFree))
            counter(
                "sluice_laddr_port_alloc_failures_total", "Allocations that found no free port in the LIP's group.",
                labels, lip.allocationFailures)
        }
        for (worker, time) in inputs.lastProgress.enumerated() {
            gauge(
                "sluice_dataplane_last_progress_timestamp_seconds", "When the worker last made progress.",
                [("worker", String(worker))], time)
        }
        for a in inputs.announcements {
            gauge(
                "sluice_vip_announced", "1 while the VIP is announced to the routers.", [("vip", a.vip)],
                a.announced ? 1 : 0)
        }
        if let sync = inputs.sync {
            for p in sync.peers {
                let labels = [("peer", p.endpoint)]
                gauge("sluice_sync_peer_up", "1 while the sync peer is heard.", labels, p.alive ? 1 : 0)
                gauge(
                    "sluice_sync_peer_lips_adopted", "1 while this gateway answers for the peer's LIPs.", labels,
                    p.adopted ? 1 : 0)
                if let silence = p.silenceSeconds {
                    gauge(
                        "sluice_sync_peer_silence_seconds", "Seconds since the peer's last datagram.", labels, silence)
                }
            }
            counter("sluice_sync_datagrams_sent_total", "Sync datagrams sent.", [], sync.datagramsSent)
            counter("sluice_sync_records_sent_total", "Connection records sent to peers.", [], sync.recordsSent)
            counter(
                "sluice_sync_records_deferred_total", "Records left to the next refresh by the bandwidth bound.", [],
                sync.recordsDeferred)
            counter("sluice_sync_datagrams_received_total", "Sync datagrams accepted.", [], sync.datagramsReceived)
            counter("sluice_sync_records_received_total", "Connection records received.", [], sync.recordsReceived)
            for (reason, value) in sync.refused.sorted(by: { $0.key < $1.key }) {
                counter("sluice_sync_refused_total", "Sync datagrams refused, by reason.", [("reason", reason)], value)
            }
        }
        gauge("sluice_build_info", "Sluice's version.", [("version", inputs.version)], 1)
        gauge(
            "sluice_config_last_reload_successful", "Whether the last configuration reload succeeded.", [],
            inputs.lastReloadSucceeded ? 1 : 0)
        gauge(
            "sluice_config_last_reload_success_timestamp_seconds", "When the configuration was last loaded.", [],
            inputs.lastReloadSuccess)
        return registry.emitToString()
    }
}
