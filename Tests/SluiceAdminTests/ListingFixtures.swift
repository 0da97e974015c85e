// Virtual servers, connections and LIPs as the daemon would report them, shared by the listing tests.
// The servers are given out of ipvsadm's order, so the listings must sort them, and the counters
// straddle print_largenum's thresholds (10^8 K, 10^9 M, 10^11 G, 10^14 T).

import SluiceAdmin

enum ListingFixtures {
    static let web = VirtualServerStatus(
        name: "web", protocol: "tcp", vip: "10.0.0.1", port: 80, scheduler: "wrr", flags: ["syn_proxy", "toa"],
        quorum: 1, liveServers: 1,
        servers: [
            RealServerStatus(
                address: "10.30.0.12", port: 8080, configuredWeight: 100, weight: 100, adminState: "ready",
                health: CheckState(
                    state: "up", type: "tcp", status: "L4OK", durationMilliseconds: 1, checks: 120, failures: 0),
                activeConnections: 7, inactiveConnections: 2,
                stats: TrafficStats(
                    connections: 1_234, inPackets: 99_999_999, inBytes: 123_456_789, outPackets: 100_000_000,
                    outBytes: 98_765_432_101),
                rate: TrafficRate(
                    connectionsPerSecond: 12, inPacketsPerSecond: 345, outPacketsPerSecond: 300,
                    inBytesPerSecond: 150_000_000, outBytesPerSecond: 2_000)),
            RealServerStatus(
                address: "10.30.0.9", port: 8080, configuredWeight: 100, weight: 0, adminState: "drain",
                health: CheckState(
                    state: "down", type: "tcp", status: "L4CON", durationMilliseconds: 0,
                    detail: "Connection refused", checks: 120, failures: 7),
                inactiveConnections: 5,
                stats: TrafficStats(
                    connections: 5, inPackets: 50, inBytes: 5_000, outPackets: 40, outBytes: 4_000)),
        ],
        stats: TrafficStats(
            connections: 1_239, inPackets: 100_000_049, inBytes: 123_461_789, outPackets: 100_000_040,
            outBytes: 98_765_436_101),
        rate: TrafficRate(
            connectionsPerSecond: 12, inPacketsPerSecond: 345, outPacketsPerSecond: 300,
            inBytesPerSecond: 150_000_000, outBytesPerSecond: 2_000))

    static let dns = VirtualServerStatus(
        name: "dns", protocol: "udp", vip: "10.0.0.1", port: 53, scheduler: "wlc", flags: [], quorum: 0,
        liveServers: 1,
        servers: [
            RealServerStatus(
                address: "10.30.0.21", port: 53, configuredWeight: 1, weight: 1, adminState: "ready",
                health: CheckState(state: "static", type: "none", status: "UNK"), inactiveConnections: 3,
                stats: TrafficStats(
                    connections: 123_456_789_012_345, inPackets: 987_654_321_098, inBytes: 18_446_744_073_709_551_615,
                    outPackets: 3, outBytes: 4))
        ],
        stats: TrafficStats(
            connections: 123_456_789_012_345, inPackets: 987_654_321_098, inBytes: 18_446_744_073_709_551_615,
            outPackets: 3, outBytes: 4))

    static let web6 = VirtualServerStatus(
        name: "web6", protocol: "tcp", vip: "fd00:10::1", port: 443, scheduler: "rr", flags: ["proxy_protocol_v2"],
        quorum: 2, liveServers: 1,
        servers: [
            RealServerStatus(
                address: "fd00:30::12", port: 8443, configuredWeight: 10, weight: 10, adminState: "ready",
                health: CheckState(state: "up", type: "http", status: "L7OK", durationMilliseconds: 12, checks: 9),
                isSorryServer: true),
            RealServerStatus(
                address: "fd00:30::2", port: 8443, configuredWeight: 10, weight: 10, adminState: "ready",
                health: CheckState(state: "up", type: "http", status: "L7OK", durationMilliseconds: 3, checks: 9),
                activeConnections: 1,
                stats: TrafficStats(connections: 1, inPackets: 10, inBytes: 1_000, outPackets: 8, outBytes: 9_000),
                rate: TrafficRate(inBytesPerSecond: 1_000_000_000)),
        ],
        stats: TrafficStats(connections: 1, inPackets: 10, inBytes: 1_000, outPackets: 8, outBytes: 9_000),
        rate: TrafficRate(inBytesPerSecond: 1_000_000_000))

    /// In configuration-file order, which is not ipvsadm's.
    static let services = [web6, dns, web]

    static let connections = [
        ConnectionEntry(
            protocol: "tcp", state: "ESTABLISHED", expiresInMilliseconds: 899_999, service: "web",
            client: "192.0.2.7", clientPort: 40_000, vip: "10.0.0.1", vport: 80, local: "10.20.0.100",
            localPort: 1_025, server: "10.30.0.12", serverPort: 8080, worker: 0),
        ConnectionEntry(
            protocol: "udp", state: "UDP", expiresInMilliseconds: 5_000, service: "dns", client: "192.0.2.8",
            clientPort: 5_353, vip: "10.0.0.1", vport: 53, local: "10.20.0.101", localPort: 61_000,
            server: "10.30.0.21", serverPort: 53, worker: 1),
        ConnectionEntry(
            protocol: "tcp", state: "SYN_RECV", expiresInMilliseconds: 59_999, service: "web6",
            client: "2001:db8::7", clientPort: 50_123, vip: "fd00:10::1", vport: 443, local: "fd00:20::100",
            localPort: 2_000, server: "fd00:30::2", serverPort: 8443, worker: 1),
    ]

    static let localAddresses = [
        LocalAddressUsage(
            address: "10.20.0.100", group: "lips", portsUsed: 1, portsFree: 64_510, allocationFailures: 0),
        LocalAddressUsage(
            address: "fd00:20::100", group: "lips6", portsUsed: 1, portsFree: 64_510, allocationFailures: 0),
        LocalAddressUsage(
            address: "10.20.0.101", group: "lips", portsUsed: 64_511, portsFree: 0, allocationFailures: 17),
    ]

    /// Lines with a newline after each, as the listings return them.
    static func text(_ lines: String...) -> String {
        lines.map { $0 + "\n" }.joined()
    }
}
