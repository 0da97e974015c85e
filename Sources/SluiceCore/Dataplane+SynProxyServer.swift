// SYNPROXY, real-server side (docs/protocol.md §2 S2 SYN, S4, refusal, silence).
//
// The RS SYN is built from scratch (TCPSegmentBuilder) from the connection entry and the first held
// client segment: LIP:lport → RIP:rport, seq = the RS-leg ISN (RFC 6528, as FULLNAT), MSS = the
// cookie's client MSS (within the client's path MTU and the configured clamp), SACK-permitted and
// window scale as the client offered them (the client's own shift, so client windows pass
// unchanged), timestamps when the client uses them (TSval = the client's first-ACK TSval mapped
// onto our clock, so the replayed ACK never carries a smaller TSval than the SYN: PAWS, RFC 7323
// §5), window = the client's ACK window in bytes (a SYN's window is never scaled, RFC 7323 §2.2).
//
// Retransmission: the timer wheel fires at `expiry`, which for a pending entry is the next
// retransmission time: after 1, 2, 4 … s (`retransmitMilliseconds` doubled), `retries` times; then
// the entry expires silently (as dpvs: the client is not reset, and its retransmissions re-run the
// cookie check, which may pick another server) and the server's timeout count grows. `advance(now:)`
// gets no NetworkView, so retransmissions use the egress remembered per real server when a SYN to
// it was last resolved.
//
// S4, the RS SYN-ACK (it must acknowledge our ISN + 1): δsp = cookie − ISN_rs goes to `ackDelta`,
// the RS's window scale and timestamp offset are recorded, the entry becomes ESTABLISHED and the
// held segments are replayed through `translateInbound`: the first one in the SYN-ACK's own buffer
// (the verdict transmits it at once), the rest through the output queue in arrival order. The
// replayed ACK (ack = cookie + 1 − δsp = ISN_rs + 1) completes the RS's handshake; no synthetic ACK
// is needed. Should the RS retransmit its SYN-ACK later, it is forwarded translated: the client,
// ESTABLISHED, answers a SYN with a challenge ACK (RFC 5961 §4), which completes the handshake too.
//
// Refusal (RST acknowledging our SYN): the client gets a RST whose seq is exactly cookie + 1, its
// RCV.NXT, so RFC 5961's exact-match check accepts it; the entry goes to CLOSE (still marked
// pending, so late client segments are dropped rather than translated with half-set deltas).

import SluicePacket

extension Dataplane {
    /// An RS segment while its handshake is pending: only a SYN-ACK or a RST acknowledging our SYN.
    @inlinable
    mutating func synProxyServerAnswer(
        _ id: ConnectionID, frame: inout MutableSpan<UInt8>, length: inout Int, now: UInt64,
        network: borrowing NetworkView
    ) -> Verdict {
        let kinds = info.tcpFlags & (tcpSYN | tcpACK | tcpRST | tcpFIN)
        let acknowledgesSYN = kinds & tcpACK != 0 && frame.u32(info.l4Offset + 8) == table[id].serverAck
        // RFC 9293 §3.10.7.3: in SYN-SENT only a segment acknowledging our SYN is acceptable.
        guard acknowledgesSYN else { return .drop(.invalidState) }
        if kinds & tcpRST != 0 {
            return synProxyServerRefused(id, frame: &frame, length: &length, now: now, network: network)
        }
        guard kinds == tcpSYN | tcpACK else { return .drop(.invalidState) }
        return synProxyServerAccepted(id, frame: &frame, length: &length, now: now, network: network)
    }

    /// The RS refused: reset the client with seq = cookie + 1 and close the entry.
    @inlinable
    mutating func synProxyServerRefused(
        _ id: ConnectionID, frame: inout MutableSpan<UInt8>, length: inout Int, now: UInt64,
        network: borrowing NetworkView
    ) -> Verdict {
        let c = table[id]
        let clientNext = synProxyClientNext(id)
        synProxy.queue.removeAll(of: id)
        updateState(id, from: c.state, to: .close, now: now)
        counters.count(.synProxyServerRefused)
        var egress = Egress()
        if let reason = resolveEgress(to: c.client, from: c.routeToClient, network: network, into: &egress) {
            return .drop(reason)
        }
        let segment = TCPSegmentBuilder.Segment(
            sourceMAC: egress.sourceMAC, destinationMAC: egress.destinationMAC, source: c.vip, destination: c.client,
            sourcePort: c.vport, destinationPort: c.clientPort, sequence: c.ackDelta &+ 1,
            acknowledgement: clientNext, flags: tcpRST | tcpACK, window: 0)
        let n = TCPSegmentBuilder.build(&frame, segment)
        guard n > 0 else { return .drop(.noRoom) }
        length = n
        counters.count(.generatedFrames)
        return .transmit(egress.side)
    }

    /// S4: the RS accepted. Records δsp, window scale and timestamp offset, and replays the held
    /// client segments.
    @inlinable
    mutating func synProxyServerAccepted(
        _ id: ConnectionID, frame: inout MutableSpan<UInt8>, length: inout Int, now: UInt64,
        network: borrowing NetworkView
    ) -> Verdict {
        let c = table[id]
        let serverISN = frame.u32(info.l4Offset + 4)
        let options = info.tcpOptions
        var connectionFlags = c.flags & ~connectionSynProxyPending
        if connectionFlags & connectionClientScaled != 0 && options.windowScaleOffset >= 0 {
            let shift = UInt16(min(frame[options.windowScaleOffset], 14))
            connectionFlags |= connectionServerScaled | shift &<< connectionServerShift
        }
        var timestampShift = c.aux1
        if connectionFlags & connectionHasTimestamps != 0 {
            if options.timestampOffset >= 0 {
                // RS TSval − our SYN-ACK's TSval: the client keeps seeing our clock continue.
                timestampShift = frame.u32(options.timestampOffset) &- c.aux1
                connectionFlags |= connectionTimestampTranslation
            } else {
                // The RS declined timestamps: the client's must not reach it (RFC 7323 §3.2).
                connectionFlags &= ~connectionHasTimestamps
                connectionFlags |= connectionTimestampStrip
                counters.count(.synProxyTimestampsStripped)
            }
        }
        table[id].ackDelta = c.ackDelta &- serverISN  // δsp = cookie − ISN_rs, wrapping
        table[id].clientAck = serverISN &+ 1
        table[id].aux1 = timestampShift
        table[id].flags = connectionFlags
        table[id].synProxyNibbles = c.synProxyNibbles & 0x0F
        if connectionFlags & connectionClientAddressPending == 0 { table[id].repeatFingerprint = 0 }
        updateState(id, from: c.state, to: .established, now: now)
        counters.count(.synProxyHandshakesCompleted)

        let first = synProxy.queue.first(of: id)
        var verdict = Verdict.drop(.heldForReplay)
        var rest = first
        if first >= 0 {
            let n = synProxy.queue.copy(first, into: &frame)
            if n > 0 {
                rest = synProxy.queue.next(after: first)
                length = n
                if let reason = PacketParser.parse(frame.span, length: n, into: &info) {
                    verdict = .drop(reason)
                } else {
                    verdict = translateInbound(id, frame: &frame, length: &length, now: now, network: network)
                    counters.count(.synProxySegmentsReplayed)
                }
            }
        }
        if rest >= 0 { synProxyReplay(id, from: rest, now: now, network: network) }
        synProxy.queue.removeAll(of: id)
        return verdict
    }

    /// Replays held segments from `slot` on through the output queue (translated like any
    /// client segment), in arrival order.
    @inlinable
    mutating func synProxyReplay(_ id: ConnectionID, from slot: Int32, now: UInt64, network: borrowing NetworkView) {
        var scratch: [UInt8] = []
        swap(&scratch, &synProxy.scratch)
        var slot = slot
        while slot >= 0 {
            let current = slot
            slot = synProxy.queue.next(after: current)
            var buffer = scratch.mutableSpan
            var n = synProxy.queue.copy(current, into: &buffer)
            guard n > 0 else { continue }
            if let reason = PacketParser.parse(buffer.span, length: n, into: &info) {
                counters.count(reason)
                continue
            }
            let verdict = translateInbound(id, frame: &buffer, length: &n, now: now, network: network)
            switch verdict {
            case .drop(let reason):
                counters.count(reason)
            case .handOff:
                // Replayed segments are the connection's own, which this worker holds.
                counters.count(.wrongWorker)
            case .transmit(let side):
                let count = n
                let queued = output.append(side: side) { out in
                    guard count <= out.count else { return 0 }
                    out.copyBytes(from: scratch.span, sourceOffset: 0, to: 0, count: count)
                    return count
                }
                if queued {
                    counters.count(.synProxySegmentsReplayed)
                    counters.count(.generatedFrames)
                } else {
                    counters.count(.generatedFramesDropped)
                }
            }
        }
        swap(&scratch, &synProxy.scratch)
    }

    /// Sends the SYN of a pending connection to its real server through the output queue, resolving
    /// the egress (and remembering it for the server's retransmissions).
    @inlinable
    mutating func synProxySendServerSYN(_ id: ConnectionID, network: borrowing NetworkView) {
        let c = table[id]
        var egress = Egress()
        let known = synProxyServerKnown(c)
        // The path the connection's later frames take (Dataplane+Transport.swift translateInbound).
        guard
            resolveEgress(
                to: c.real, from: c.routeToReal, flowHash: Self.pathHash(of: id), network: network, into: &egress)
                == nil
        else {
            // Resolution was requested; `advance(now:network:)` retries it for the retransmissions.
            if known && !synProxy.serverEgressWanted[Int(c.serviceIndex)][Int(c.realServerIndex)] {
                synProxy.serverEgressWanted[Int(c.serviceIndex)][Int(c.realServerIndex)] = true
                synProxy.serverEgressQuery[Int(c.serviceIndex)][Int(c.realServerIndex)] = c.routeToReal
                synProxy.serverEgressWantedCount &+= 1
            }
            return
        }
        if known { synProxy.serverEgress[Int(c.serviceIndex)][Int(c.realServerIndex)] = egress }
        synProxySendServerSYN(id, egress: egress, retransmission: false)
    }

    /// Writes the SYN of pending connection `id` into the output queue, leaving through `egress`.
    @inlinable
    mutating func synProxySendServerSYN(_ id: ConnectionID, egress: Egress, retransmission: Bool) {
        let c = table[id]
        let first = synProxy.queue.first(of: id)
        guard first >= 0 else { return }
        let held = synProxy.queue[first]
        let clientScaled = c.flags & connectionClientScaled != 0
        let shift = UInt32(c.synProxyNibbles & 0x0F)
        var window = held.window
        if clientScaled { window = UInt16(clamping: UInt32(held.window) &<< shift) }
        var segment = TCPSegmentBuilder.Segment(
            sourceMAC: egress.sourceMAC, destinationMAC: egress.destinationMAC, source: c.local, destination: c.real,
            sourcePort: c.localPort, destinationPort: c.realPort, sequence: c.serverAck &- 1, acknowledgement: 0,
            flags: tcpSYN, window: window)
        segment.mss = max(c.clientMSS, 536)
        segment.windowScale = clientScaled ? UInt8(truncatingIfNeeded: shift) : nil
        let cookieOptions = CookieOptions(data: (c.ackDelta &>> 22) & 0xFF, v6: c.client.isV6)
        segment.sackPermitted = cookieOptions.sackPermitted && synProxy.configuration.sack
        if c.flags & connectionHasTimestamps != 0 {
            segment.timestamps = true
            segment.timestampValue = held.timestampValue &+ c.aux0
            segment.timestampEcho = 0
        }
        let queued = output.append(side: egress.side) { out in TCPSegmentBuilder.build(&out, segment) }
        if queued {
            counters.count(.generatedFrames)
            counters.count(retransmission ? .synProxyServerSynRetransmits : .synProxyServerSyns)
        } else {
            counters.count(.generatedFramesDropped)
        }
    }

    /// True when the entry's service and server indexes still name its real server (they may not
    /// after a reload).
    @inlinable @inline(__always)
    func synProxyServerKnown(_ c: Connection) -> Bool {
        let service = Int(c.serviceIndex)
        let server = Int(c.realServerIndex)
        return service < services.services.count && service < synProxy.serverEgress.count
            && server < services.services[service].configuration.realServers.count
            && server < synProxy.serverEgress[service].count
            && services.services[service].configuration.realServers[server].address == c.real
    }

    /// Timer of a pending connection: retransmit the SYN or give up.
    @usableFromInline
    mutating func synProxyRetransmitOrExpire(_ id: ConnectionID, now: UInt64) {
        let c = table[id]
        if !c.isExpired(at: now) {
            wheel.schedule(id, at: c.expiresAt(near: now))
            return
        }
        let sent = Int(c.synProxyNibbles &>> 4)
        if sent < synProxy.configuration.retries {
            table[id].synProxyNibbles = UInt8(truncatingIfNeeded: sent &+ 1) &<< 4 | c.synProxyNibbles & 0x0F
            let deadline = now &+ synProxy.configuration.retransmitMilliseconds &<< UInt64(sent &+ 1)
            table[id].expire(at: deadline)
            wheel.schedule(id, at: deadline)
            if synProxyServerKnown(c) {
                let egress = synProxy.serverEgress[Int(c.serviceIndex)][Int(c.realServerIndex)]
                // No egress was ever resolved for this server: nothing can be sent yet.
                if egress.destinationMAC != 0 { synProxySendServerSYN(id, egress: egress, retransmission: true) }
            }
            return
        }
        counters.count(.synProxyServerTimeouts)
        if synProxyServerKnown(c) {
            synProxy.serverTimeouts[Int(c.serviceIndex)][Int(c.realServerIndex)] &+= 1
        }
        release(id)
        counters.count(.connectionsExpired)
    }

    /// `advance(now:)` that can also resolve the egress of real servers whose SYN found no
    /// neighbour entry, so that the retransmission timer reaches them once the kernel has resolved
    /// the next hop. Prefer it in the worker loop.
    public mutating func advance(now: UInt64, network: borrowing NetworkView) {
        // At most every 100 ms: each attempt re-asks the kernel to resolve the next hop.
        if synProxy.serverEgressWantedCount > 0 && now &- synProxy.lastEgressAttempt >= 100 {
            synProxy.lastEgressAttempt = now
            for service in synProxy.serverEgressWanted.indices where service < services.services.count {
                let servers = services.services[service].configuration.realServers
                for server in synProxy.serverEgressWanted[service].indices
                where synProxy.serverEgressWanted[service][server] && server < servers.count {
                    var egress = Egress()
                    // Routed as the SYN that wanted it (its LIP and ports), so source rules apply.
                    let route = synProxy.serverEgressQuery[service][server]
                    if resolveEgress(to: servers[server].address, from: route, network: network, into: &egress) == nil {
                        synProxy.serverEgress[service][server] = egress
                        synProxy.serverEgressWanted[service][server] = false
                        synProxy.serverEgressWantedCount &-= 1
                    }
                }
            }
        }
        if noDestinationSweep >= 0 { sweepDownServers(now: now, network: network) }
        if fragmentHold.count > 0 { retryHeldFragments(now: now, network: network) }
        advance(now: now)
    }

    /// RS handshakes that timed out for real server `server` of service `service` (both indexes as
    /// in the configuration); 0 for indexes out of range. A growing count marks a suspect server.
    public func synProxyServerTimeouts(service: Int, server: Int) -> UInt64 {
        guard service >= 0, service < synProxy.serverTimeouts.count, server >= 0,
            server < synProxy.serverTimeouts[service].count
        else { return 0 }
        return synProxy.serverTimeouts[service][server]
    }

    /// Client segments currently held for pending RS handshakes.
    public var synProxyHeldSegments: Int { synProxy.queue.slotCount - synProxy.queue.freeSlots }

    /// Starts a new SYN-cookie key generation; cookies made with the previous key stay valid. Call
    /// at most once per `SynCookie.maximumAgeMilliseconds` (120 s).
    public mutating func rotateSynCookieKey(_ key: (UInt64, UInt64)) {
        synProxy.cookies.rotate(newKey: key)
    }
}
