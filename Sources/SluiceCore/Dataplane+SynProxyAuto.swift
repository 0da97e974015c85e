// `syn_proxy: auto`, the default for TCP services: a service without `syn_proxy` forwards SYNs as
// plain FULLNAT until it has `synproxy.auto_half_open` half-open connections in this worker (a SYN
// flood, spoofed or not, leaves them behind and would take the LIPs' ports), then answers its SYNs
// with cookies like a SYN-proxied service, creating nothing until a client proves itself; at half
// that number it goes back. Linux does the same with its listen backlog and syncookies. ACKs with no
// connection are checked as cookies while cookies are out and for `cookieACKWindow` after (an ACK
// to an old cookie arrives late), and are strays otherwise.
//
// Half-open: a TCP entry in NONE, SYN_SENT, SYN_RECV or SYN_ACK that the SYN proxy did not open (a
// SYN-proxied entry's client has already proven itself). The count per service is kept on every state
// change and recounted when a reload renumbers the services.

import SluicePacket

extension Dataplane {
    /// How long after the last cookie an ACK with no connection may still carry one (the cookie's own
    /// clock makes it invalid after two key periods of 120 s at most).
    @usableFromInline static var cookieACKWindow: UInt64 { 250_000 }

    @inlinable
    static func isHalfOpen(_ state: ConnectionState) -> Bool {
        state == .none || state == .synSent || state == .synRecv || state == .synAck
    }

    /// Moves an entry's half-open count when its state changes (nil: the entry is new, or gone).
    @inlinable
    mutating func countHalfOpen(_ c: Connection, from old: ConnectionState?, to new: ConnectionState?) {
        guard c.transport == 6, c.flags & connectionSynProxy == 0 else { return }
        let service = Int(c.serviceIndex)
        guard service < halfOpen.count else { return }
        let was = old.map(Self.isHalfOpen) ?? false
        let isNow = new.map(Self.isHalfOpen) ?? false
        if isNow && !was {
            halfOpen[service] &+= 1
        } else if was && !isNow && halfOpen[service] > 0 {
            halfOpen[service] -= 1
        }
    }

    /// `countHalfOpen` for entry `id` changing state: out of line, because state changes are rare
    /// next to the segments that keep a state, whose path must stay small.
    @usableFromInline @inline(never)
    mutating func noteStateChange(_ id: ConnectionID, from old: ConnectionState, to new: ConnectionState) {
        var c = table[id]
        countHalfOpen(c, from: old, to: new)
        if syncOutbox.isEnabled {
            c.state = new
            queueSyncEvent(.update, c)
        }
    }

    /// Whether a segment with no connection to `service` (whose `syn_proxy` is auto) goes to the SYN
    /// proxy: a SYN while the service is under pressure, an ACK while cookies may be out.
    @inlinable
    mutating func synProxyAutoTakes(service: Int, now: UInt64) -> Bool {
        let limit = max(configuration.synProxy.autoHalfOpen, 2)
        if cookiesUntil[service] != UInt64.max && halfOpen[service] >= limit {
            cookiesUntil[service] = UInt64.max
            counters.count(.synProxyAutoEngaged)
        } else if cookiesUntil[service] == UInt64.max && halfOpen[service] <= limit / 2 {
            cookiesUntil[service] = now &+ Self.cookieACKWindow
            counters.count(.synProxyAutoDisengaged)
        }
        let kinds = info.tcpFlags & (tcpSYN | tcpACK | tcpRST | tcpFIN)
        if kinds == tcpSYN {
            guard cookiesUntil[service] == UInt64.max else { return false }
            counters.count(.synProxyAutoCookies)
            return true
        }
        return kinds & (tcpSYN | tcpRST) == 0 && kinds & tcpACK != 0 && cookiesUntil[service] > now
    }

    /// Recounts half-open entries and UDP flows per service (after a reload renumbered the services).
    mutating func recountServiceLoad() {
        halfOpen = Array(repeating: 0, count: services.services.count)
        cookiesUntil = Array(repeating: 0, count: services.services.count)
        for id in 0..<ConnectionID(table.capacity) where table.isLive(id) {
            let c = table[id]
            if Self.isSynced(c) { continue }
            countHalfOpen(c, from: nil, to: c.state)
            if c.transport == TransportProtocol.udp.rawValue {
                udpBudget.opened(service: Int(c.serviceIndex), source: c.client)
            }
        }
    }
}
