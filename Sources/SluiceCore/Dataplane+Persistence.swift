// Persistence (IPVS `-p`): the real server of a new connection comes from its client's template when
// a live one names a server that may still take it, and from the scheduler otherwise, which then
// makes the template (PersistenceTemplates.swift). A template lives `persistence_timeout` past the
// deadline of its connections: it is extended when a connection opens, whenever the timer wheel
// re-arms a live one, and when one ends, so a client keeps its server while it has connections and
// for the timeout after the last one ends.

import SluicePacket

extension Dataplane {
    /// The real server for the packet in `info` to `service`, and whether a template chose it.
    @inlinable
    mutating func pickServer(service: Int, now: UInt64) -> (server: Int, followed: Bool)? {
        let timeout = services.persistenceTimeouts[service]
        guard timeout > 0, let templates else {
            return services.services[service].scheduler.pick(
                client: info.source, clientPort: info.sourcePort, vip: info.destination
            ).map { ($0, false) }
        }
        let nowSeconds = Self.seconds(now)
        let key = templateKey(service: service, client: info.source)
        var replacing: UInt32?
        if let template = templates.lookup(key, now: nowSeconds) {
            if let index = templateServer(service: service, tag: template.tag) {
                counters.count(.persistenceTemplateFollowed)
                return (index, true)
            }
            replacing = template.tag
        }
        guard
            let picked = services.services[service].scheduler.pick(
                client: info.source, clientPort: info.sourcePort, vip: info.destination)
        else { return nil }
        let tag = services.serverTags[service][picked]
        let held = templates.store(
            key, tag: tag, expiry: nowSeconds &+ timeout, now: nowSeconds, replacing: replacing)
        guard let held else {
            counters.count(.persistenceTableFull)
            return (picked, false)
        }
        if held != tag, let index = templateServer(service: service, tag: held) {
            // Another worker made this client's template an instant earlier: follow it.
            counters.count(.persistenceTemplateFollowed)
            return (index, true)
        }
        counters.count(.persistenceTemplateCreated)
        return (picked, false)
    }

    /// Extends the template of a live connection to `persistence_timeout` past its deadline.
    @inlinable
    mutating func extendTemplate(of c: Connection) {
        guard let templates,
            let service = services.service(address: c.vip, port: c.vport, transport: c.transport)
        else { return }
        let timeout = services.persistenceTimeouts[service]
        guard timeout > 0 else { return }
        templates.extend(
            templateKey(service: service, client: c.client),
            tag: PersistenceTemplates.tag(address: c.real, port: c.realPort),
            expiry: Self.seconds(c.expiresAt(near: clock)) &+ timeout)
    }

    /// The template key of a client for a service (the client's network under the service's mask).
    @inlinable @inline(__always)
    func templateKey(service: Int, client: IPAddress) -> UInt64 {
        let vs = services.keys[service]
        return templates?.key(
            vip: vs.address, port: vs.port, transport: vs.transport,
            clientNetwork: PersistenceTemplates.network(of: client, prefix: services.persistenceNetmasks[service])) ?? 0
    }

    /// The index of the server a template names, when it may still take new connections: up, and
    /// not quiescent under `expire_quiescent_template`.
    @inlinable @inline(__always)
    func templateServer(service: Int, tag: UInt32) -> Int? {
        guard let index = services.serverTags[service].firstIndex(of: tag) else { return nil }
        let server = services.services[service].configuration.realServers[index]
        guard server.isUp else { return nil }
        if server.weight == 0 && services.services[service].configuration.expireQuiescentTemplate { return nil }
        return index
    }

    /// Monotonic milliseconds as the templates' seconds.
    @inlinable
    static func seconds(_ milliseconds: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: milliseconds / 1000) }
}
