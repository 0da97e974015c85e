// Per-worker counters: plain integers owned by one worker thread, summed by readers from the
// snapshots workers publish at batch boundaries (no atomics on the hot path).

import SluicePacket

/// Event counters of one worker's data plane.
public struct Counters: Sendable {
    /// Drops by reason, indexed by `DropReason.rawValue`.
    public var drops: [UInt64]
    /// Events by kind, indexed by `Event.rawValue` (assembled: the four per-packet events live in
    /// fields of their own).
    public var events: [UInt64] {
        get {
            var all = otherEvents
            all[Event.receivedExternal.rawValue] = receivedExternal
            all[Event.receivedInternal.rawValue] = receivedInternal
            all[Event.forwardedInbound.rawValue] = forwardedInbound
            all[Event.forwardedOutbound.rawValue] = forwardedOutbound
            return all
        }
        set {
            otherEvents = newValue
            receivedExternal = newValue[Event.receivedExternal.rawValue]
            receivedInternal = newValue[Event.receivedInternal.rawValue]
            forwardedInbound = newValue[Event.forwardedInbound.rawValue]
            forwardedOutbound = newValue[Event.forwardedOutbound.rawValue]
            for event in Self.fieldEvents { otherEvents[event.rawValue] = 0 }
        }
    }
    /// Every event but the four below; their slots stay 0.
    @usableFromInline var otherEvents: [UInt64]
    /// The events every forwarded frame counts, as plain fields: an increment of an array element
    /// checks the array's uniqueness first (a runtime call, ≈ 20 instructions), which twice per frame
    /// was ≈ 2 % of the established path.
    @usableFromInline var receivedExternal: UInt64 = 0
    @usableFromInline var receivedInternal: UInt64 = 0
    @usableFromInline var forwardedInbound: UInt64 = 0
    @usableFromInline var forwardedOutbound: UInt64 = 0
    @usableFromInline static let fieldEvents: [Event] = [
        .receivedExternal, .receivedInternal, .forwardedInbound, .forwardedOutbound,
    ]
    /// Levels sampled at batch boundaries (not per packet), indexed by `Gauge.rawValue`.
    public var gauges: [UInt64]

    /// Levels rather than events; summed over workers like the counters.
    public enum Gauge: Int, CaseIterable, Sendable {
        case connections = 0
        case localPortsInUse
        case localPortAllocationFailures
    }

    /// Countable events other than drops.
    public enum Event: Int, CaseIterable, Sendable {
        case receivedExternal = 0
        case receivedInternal
        case forwardedInbound
        case forwardedOutbound
        case connectionsCreated
        case connectionsExpired
        case icmpTranslated
        case icmpGenerated
        case mssClamped
        case neighbourResolutionRequested
        case generatedFrames
        case toaStripped
        /// Generated frames lost because the output queue was full.
        case generatedFramesDropped
        /// Frames passed to the worker that owns their connection (docs/design.md §2).
        case handOffsSent
        /// Frames another worker passed to this one.
        case handOffsReceived
        /// Of the frames handed over, replies from real servers (to a LIP): with the NIC's RSS known, the
        /// replies whose queue the port choice did not predict.
        case repliesHandedOff
        /// With the NIC's RSS known: local ports chosen so that the NIC delivers their replies to this
        /// worker, and ports taken without that (none of the probed free ports qualified).
        case localPortsSteered
        case localPortsUnsteered
        /// SYNPROXY (docs/protocol.md §2): pure SYNs to SYN-proxied services.
        case synProxySynsReceived
        /// SYN-ACKs with a cookie sent back.
        case synProxyCookiesSent
        /// ACKs whose cookie verified (a connection was opened or reused).
        case synProxyAcksValid
        /// ACKs whose cookie did not verify (also counted as drop `badCookie`).
        case synProxyAcksInvalid
        /// RSTs answering invalid-cookie ACKs (`rst_on_bad_cookie`).
        case synProxyResetsSent
        /// SYNs sent to real servers, first transmissions.
        case synProxyServerSyns
        /// SYNs sent to real servers again after a silence.
        case synProxyServerSynRetransmits
        /// RS handshakes given up after the last retransmission (the server is counted suspect).
        case synProxyServerTimeouts
        /// RS handshakes refused by a RST (the client was reset).
        case synProxyServerRefused
        /// RS handshakes completed (RS SYN-ACK accepted).
        case synProxyHandshakesCompleted
        /// Client segments held while the RS handshake was pending.
        case synProxySegmentsHeld
        /// Held client segments replayed to the real server.
        case synProxySegmentsReplayed
        /// Pending connections the client aborted with a RST.
        case synProxyClientAborts
        /// Connections in TIME_WAIT/CLOSE replaced by a new valid-cookie handshake.
        case synProxyReused
        /// Connections whose real server did not negotiate timestamps: they are stripped client→RS.
        case synProxyTimestampsStripped
        /// RSTs inside the window but not at the expected sequence number: forwarded, state kept.
        case rstInWindow
        /// TOA options inserted into client segments (docs/protocol.md §6).
        case toaInserted
        /// … of which other options had to be pruned to make room.
        case toaPruned
        /// Client segments that went without TOA: no room even after pruning.
        case toaNoRoom
        /// PROXY headers inserted in front of a client segment's payload (a retransmitted first
        /// segment gets the identical header again and counts again).
        case proxyHeadersInserted
        /// PROXY headers sent as a segment of their own (no room in the client's segment).
        case proxyHeadersSeparate
        /// PROXY headers sent again by Sluice (`send_on_connect`) while unacknowledged.
        case proxyHeaderResends
        /// Self-sent headers given up after the last resend.
        case proxyHeaderResendsAbandoned
        /// Self-sent headers that could not be kept for resending (store full).
        case proxyHeaderResendsUntracked
        /// Client streams that began with a PROXY header of their own (ours still comes first).
        case proxyHeadersFromClient
        /// Client PROXY headers forwarded as they were (`passthrough`).
        case proxyHeadersPassedThrough
        /// Headers not written because the service's mode changed under a reload.
        case proxyHeadersSkipped
        /// Connections expired because their real server went down (IPVS `expire_nodest_conn`).
        case connectionsExpiredNoDestination
        /// RSTs sent for connections of a down real server (at expiry and to late segments).
        case noDestinationResets
        /// New connections that followed their client's persistence template.
        case persistenceTemplateFollowed
        /// Persistence templates created (or replaced, when their server went down).
        case persistenceTemplateCreated
        /// New connections scheduled without a template: the template table had no free slot.
        case persistenceTableFull
        /// `syn_proxy: auto`: SYNs answered with a cookie because their service had too many half-open
        /// connections, and the times a service started and stopped doing so.
        case synProxyAutoCookies
        case synProxyAutoEngaged
        case synProxyAutoDisengaged
        /// Connection sync (docs/sync.md): events queued for the peers, and events lost because the
        /// outbox was full (the next refresh sends those connections again).
        case syncEventsQueued
        case syncEventsOverflowed
        /// Events not sent because a later event of the same connection in the same collection round
        /// superseded them (SyncRecord+Coalesce.swift), updates and removals apart.
        case syncUpdatesCoalesced
        case syncRemovalsCoalesced
        /// Entries from peers installed, updated and removed.
        case syncEntriesInstalled
        case syncEntriesUpdated
        case syncEntriesRemoved
        /// Entries from peers refused: a tuple held by a connection of our own, a LIP of our own (the
        /// gateways share LIPs: a misconfiguration), no virtual server of ours for it, the table full,
        /// or a record that cannot be installed (no idle time left, a state not worth syncing).
        case syncRefusedOwnTuple
        case syncRefusedOwnLocalAddress
        case syncRefusedNoService
        case syncRefusedTableFull
        case syncRefusedStale
        /// Entries from peers whose client tuple and local port name different workers here (a peer
        /// with another worker count or RSS key, FlowOwnership.swift): its frames could not all reach
        /// one table.
        case syncRefusedWorker
        /// Fragments (docs/protocol.md §3 "Fragments"): first fragments translated with their connection
        /// and recorded for their datagram's later fragments; later fragments forwarded with that rewrite
        /// (released ones included); held later fragments released once their first fragment was translated.
        case firstFragmentsForwarded
        case laterFragmentsForwarded
        case fragmentsReleased
    }

    public init() {
        drops = Array(repeating: 0, count: DropReason.allCases.count)
        otherEvents = Array(repeating: 0, count: Event.allCases.count)
        gauges = Array(repeating: 0, count: Gauge.allCases.count)
    }

    @inlinable @inline(__always)
    public mutating func count(_ reason: DropReason) { drops[Int(reason.rawValue)] &+= 1 }

    @inlinable @inline(__always)
    public mutating func count(_ event: Event, by n: UInt64 = 1) {
        switch event {
        case .receivedExternal: receivedExternal &+= n
        case .receivedInternal: receivedInternal &+= n
        case .forwardedInbound: forwardedInbound &+= n
        case .forwardedOutbound: forwardedOutbound &+= n
        default: otherEvents[event.rawValue] &+= n
        }
    }

    public subscript(reason: DropReason) -> UInt64 { drops[Int(reason.rawValue)] }
    public subscript(event: Event) -> UInt64 {
        switch event {
        case .receivedExternal: receivedExternal
        case .receivedInternal: receivedInternal
        case .forwardedInbound: forwardedInbound
        case .forwardedOutbound: forwardedOutbound
        default: otherEvents[event.rawValue]
        }
    }
    public subscript(gauge: Gauge) -> UInt64 {
        get { gauges[gauge.rawValue] }
        set { gauges[gauge.rawValue] = newValue }
    }

    /// Every counter as `(name, value)`, names in snake case (`drop_no_route`, `forwarded_inbound`).
    public var named: [(name: String, value: UInt64)] {
        var out: [(String, UInt64)] = []
        for event in Event.allCases { out.append((Self.snakeCase("\(event)"), self[event])) }
        for gauge in Gauge.allCases { out.append((Self.snakeCase("\(gauge)"), gauges[gauge.rawValue])) }
        for reason in DropReason.allCases {
            out.append(("drop_" + Self.snakeCase("\(reason)"), drops[Int(reason.rawValue)]))
        }
        return out
    }

    /// `badTCPHeader` → `bad_tcp_header`, `receivedIPv4` → `received_ipv4`.
    public static func snakeCase(_ name: String) -> String {
        let chars = Array(name)
        var out = ""
        for (i, ch) in chars.enumerated() {
            if ch.isUppercase && i > 0 {
                let previous = chars[i - 1]
                let nextIsLower = i + 1 < chars.count && chars[i + 1].isLowercase
                if previous.isLowercase || previous.isNumber
                    || (previous.isUppercase && nextIsLower && chars[i + 1] != "v")
                {
                    out.append("_")
                }
            }
            out.append(contentsOf: ch.lowercased())
        }
        return out
    }

    /// Adds another worker's counters (for totals).
    public mutating func add(_ other: Counters) {
        for i in drops.indices { drops[i] &+= other.drops[i] }
        for i in otherEvents.indices { otherEvents[i] &+= other.otherEvents[i] }
        receivedExternal &+= other.receivedExternal
        receivedInternal &+= other.receivedInternal
        forwardedInbound &+= other.forwardedInbound
        forwardedOutbound &+= other.forwardedOutbound
        for i in gauges.indices { gauges[i] &+= other.gauges[i] }
    }
}
