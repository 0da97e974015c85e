// Per-real-server counters (ipvsadm --stats, node_exporter's per-backend metrics). Each worker keeps
// its own in one flat array (`serverTraffic`), `trafficFields` words per real server, at the slot
// the service table assigns (`ServiceTable.trafficBase[service] + server`): no sharing, no atomics,
// two additions per forwarded packet. A reload moves each server's words to its new slot, matched by
// service name, address and port, so counters survive reloads for servers that stay.

import SluicePacket

extension Dataplane {
    /// Words per real server: connections, in packets, in bytes, out packets, out bytes.
    @usableFromInline static let trafficFields = 5
    @usableFromInline static let trafficConnections = 0
    @usableFromInline static let trafficInbound = 1
    @usableFromInline static let trafficOutbound = 3

    /// Adds one packet of `bytes` to a real server's inbound or outbound counters.
    @inlinable
    mutating func countServerTraffic(service: Int, server: Int, field: Int, bytes: Int) {
        guard service < services.trafficBase.count, server < services.realServerCounts[service] else { return }
        let slot = (services.trafficBase[service] &+ server) &* Self.trafficFields &+ field
        serverTraffic[slot] &+= 1
        if field != Self.trafficConnections { serverTraffic[slot &+ 1] &+= UInt64(truncatingIfNeeded: bytes) }
    }

    /// The counter array for `table`, carrying over the words of servers that `previous` also had.
    static func remapTraffic(_ old: [UInt64], from previous: ServiceTable?, to table: ServiceTable) -> [UInt64] {
        var fresh = [UInt64](repeating: 0, count: max(1, table.totalRealServers * trafficFields))
        guard let previous else { return fresh }
        var oldSlots: [String: Int] = [:]
        for (index, service) in previous.services.enumerated() {
            for (server, rs) in service.configuration.realServers.enumerated() {
                oldSlots["\(service.configuration.name) \(rs.address) \(rs.port)"] =
                    previous.trafficBase[index] + server
            }
        }
        for (index, service) in table.services.enumerated() {
            for (server, rs) in service.configuration.realServers.enumerated() {
                guard let from = oldSlots["\(service.configuration.name) \(rs.address) \(rs.port)"] else { continue }
                let to = table.trafficBase[index] + server
                for field in 0..<trafficFields where from * trafficFields + field < old.count {
                    fresh[to * trafficFields + field] = old[from * trafficFields + field]
                }
            }
        }
        return fresh
    }

    /// Every real server's counters in this worker (for the control plane; allocates).
    public func serverTrafficSnapshot() -> [ServerTraffic] {
        var out: [ServerTraffic] = []
        for (index, service) in services.services.enumerated() {
            for (server, rs) in service.configuration.realServers.enumerated() {
                let base = (services.trafficBase[index] + server) * Self.trafficFields
                out.append(
                    ServerTraffic(
                        service: service.configuration.name, address: rs.address, port: rs.port,
                        connections: serverTraffic[base], inPackets: serverTraffic[base + 1],
                        inBytes: serverTraffic[base + 2], outPackets: serverTraffic[base + 3],
                        outBytes: serverTraffic[base + 4],
                        active: UInt64(service.scheduler.activeConnections(server)),
                        inactive: UInt64(service.scheduler.inactiveConnections(server))))
            }
        }
        return out
    }
}
