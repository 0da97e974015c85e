// SYNPROXY, client side (docs/protocol.md §2 S1–S3): services with `synProxy` answer a client's SYN
// with a SYN cookie and keep no state; only an ACK that returns a valid cookie opens a connection,
// and only then does a SYN go to a real server. Until the RS answers, the client's segments are
// held (bounded) and replayed afterwards (Dataplane+SynProxyServer.swift).
//
// Differences from dpvs, on purpose:
// - The cookie carries MSS, window scale (absent ≠ shift 0) and SACK in its hash-protected data
//   bits (SynCookie.swift), so clients keep all three without timestamps (pitfalls 4, 9).
// - Timestamps are offered and translated on both legs (Dataplane+SynProxyTranslation.swift), and
//   the RS leg sees the client's TS clock mapped onto the gateway's, as in plain FULLNAT (pitfall 1).
// - The RS SYN carries the client's own window scale and its ACK window (netfilter does the same;
//   dpvs sends a fixed 5000), so client→RS windows never need rescaling.
// - Segments that arrive while the RS handshake is pending must acknowledge exactly our SYN-ACK
//   (ack = cookie + 1): only the client knows the cookie, so nothing blind gets held. Copies of a
//   held segment (retransmissions) are not held twice.
// - A valid-cookie ACK on an entry in TIME_WAIT/CLOSE releases it and opens a fresh connection
//   (new LIP port, new clock-driven ISN, new deltas) instead of reusing the old port with stale
//   deltas (pitfall 6). The old connection's own first ACK also carries a valid cookie; it is told
//   apart by acknowledging exactly what the client last acknowledged (dpvs compares the stored
//   cookie, which Sluice does not keep after the RS handshake).
//
// Connection entries of SYN-proxied connections carry `connectionSynProxy` in `flags`; while the RS
// handshake is pending also `connectionSynProxyPending`, `ackDelta` holds the cookie, `serverAck`
// the RS-leg ISN + 1, `aux1` our SYN-ACK's TSval, the low nibble of `synProxyNibbles` the client's
// window scale and the high nibble the SYN retransmissions so far, and `expiry` the time of the
// next retransmission. Sequence arithmetic wraps (`&+`, `&-`): sequence space is modulo 2^32.

import SluicePacket

extension Dataplane {
    /// A segment to a SYN-proxied service with no connection: S1 for a SYN, S2 for an ACK.
    @inlinable
    mutating func synProxyNew(
        service: Int, frame: inout MutableSpan<UInt8>, length: inout Int, now: UInt64, network: borrowing NetworkView
    ) -> Verdict {
        let kinds = info.tcpFlags & (tcpSYN | tcpACK | tcpRST | tcpFIN)
        if kinds == tcpSYN {
            return synProxyAnswerSYN(service: service, frame: &frame, length: &length, now: now, network: network)
        }
        if kinds & (tcpSYN | tcpRST) == 0 && kinds & tcpACK != 0 {
            return synProxyAcceptACK(service: service, frame: &frame, length: &length, now: now, network: network)
        }
        return .drop(.noConnection)
    }

    /// S1: turns the SYN into the cookie SYN-ACK, in place, and routes it back to the client.
    @inlinable
    mutating func synProxyAnswerSYN(
        service: Int, frame: inout MutableSpan<UInt8>, length: inout Int, now: UInt64, network: borrowing NetworkView
    ) -> Verdict {
        counters.count(.synProxySynsReceived)
        // dpvs answers only for services that can take a connection (weight > 0).
        guard services.services[service].scheduler.maxWeight > 0 else { return .drop(.noRealServer) }
        var egress = Egress()
        let route = RouteQuery.tcp(from: info.destination, port: info.destinationPort, to: info.sourcePort)
        if let reason = resolveEgress(to: info.source, from: route, network: network, into: &egress) {
            return .drop(reason)
        }
        let settings = synProxy.configuration
        let cookie = synProxy.cookies.make(
            source: info.source, destination: info.destination, sourcePort: info.sourcePort,
            destinationPort: info.destinationPort, clientISN: frame.u32(info.l4Offset + 4),
            options: CookieOptions(syn: frame.span, info: info), nowMilliseconds: now)
        var mss = info.isV6 ? settings.mssIPv6 : settings.mss
        if configuration.mssClamp > 0 && configuration.mssClamp < mss { mss = configuration.mssClamp }
        // Client segments may carry a TOA option towards the real server: leave room for it.
        mss = UInt16(clamping: max(Int(mss) - toaRoom(service: service, v6: info.isV6), 64))
        // TSval: the gateway's millisecond clock (RFC 7323 §5.4 allows 1 ms to 1 s per tick).
        let parameters = SynAckParameters(
            mss: mss, windowScale: settings.windowScale, sack: settings.sack, timestamps: settings.timestamps,
            tsval: UInt32(truncatingIfNeeded: now), ttl: 64, window: nil)
        guard SynAck.answer(&frame, length: &length, info: info, cookie: cookie, parameters: parameters) else {
            return .drop(.noRoom)
        }
        guard EthernetHeader.setAddresses(&frame, destination: egress.destinationMAC, source: egress.sourceMAC) else {
            return .drop(.truncated)
        }
        counters.count(.synProxyCookiesSent)
        return .transmit(egress.side)
    }

    /// S2: checks the cookie of an ACK without a connection; a valid one opens a connection in
    /// SYN_SENT, holds the ACK and sends the SYN to the chosen real server.
    @inlinable
    mutating func synProxyAcceptACK(
        service: Int, frame: inout MutableSpan<UInt8>, length: inout Int, now: UInt64, network: borrowing NetworkView
    ) -> Verdict {
        let l4 = info.l4Offset
        let seq = frame.u32(l4 + 4)
        let ack = frame.u32(l4 + 8)
        // The ACK acknowledges cookie + 1 and continues at client ISN + 1 (both wrap).
        guard
            let cookieOptions = synProxy.cookies.check(
                cookie: ack &- 1, source: info.source, destination: info.destination, sourcePort: info.sourcePort,
                destinationPort: info.destinationPort, clientISN: seq &- 1, nowMilliseconds: now)
        else {
            counters.count(.synProxyAcksInvalid)
            if synProxy.configuration.resetOnBadCookie {
                return synProxyResetBadCookie(frame: &frame, length: &length, now: now, network: network)
            }
            return .drop(.badCookie)
        }
        counters.count(.synProxyAcksValid)
        guard synProxy.queue.freeSlots > 0 else { return .drop(.holdQueueFull) }
        let settings = synProxy.configuration
        var failure = DropReason.connectionTableFull
        // The ACK continues at client ISN + 1.
        guard
            var c = draftConnection(
                service: service, state: .synSent, expiresAt: now &+ settings.retransmitMilliseconds,
                clientISN: seq &- 1, now: now, failure: &failure)
        else { return .drop(failure) }
        c.ackDelta = ack &- 1  // the cookie, until the RS's ISN is known
        // The RS's segments travel to the client: its MSS, its path MTU and the configured clamp.
        let mtu = pathMTU(to: info.source, from: c.routeToClient, network: network)
        let pathLimit = UInt16(clamping: max(mtu - (info.isV6 ? 60 : 40), 536))
        c.clientMSS = min(cookieOptions.mss, pathLimit)
        if configuration.mssClamp > 0 && configuration.mssClamp < c.clientMSS { c.clientMSS = configuration.mssClamp }
        var connectionFlags = connectionSynProxy | connectionSynProxyPending
        let timestampOffset = info.tcpOptions.timestampOffset
        if settings.timestamps && timestampOffset >= 0 {
            // The client echoes our SYN-ACK's TSval; its own TSval is mapped onto our clock.
            c.aux0 = UInt32(truncatingIfNeeded: now) &- frame.u32(timestampOffset)
            c.aux1 = frame.u32(timestampOffset + 4)
            connectionFlags |= connectionHasTimestamps
        }
        if let shift = cookieOptions.windowScale {
            connectionFlags |= connectionClientScaled | UInt16(min(settings.windowScale, 14)) &<< connectionProxyShift
            c.synProxyNibbles = min(shift, 14)
        }
        c.flags |= connectionFlags
        guard let id = commitConnection(c) else { return .drop(.connectionTableFull) }
        let segment = synProxyHeldSegment(frame.span)
        // A slot is free (checked above) and the list is empty: this cannot fail.
        _ = synProxy.queue.append(id, frame: frame.span, segment: segment, limit: settings.queueLength)
        counters.count(.synProxySegmentsHeld)
        synProxySendServerSYN(id, network: network)
        return .drop(.heldForReplay)
    }

    /// The answer to an ACK with a bad cookie when `resetOnBadCookie` is set: a RST built in place,
    /// as RFC 9293 §3.10.7.1 answers a segment for no connection (seq = SEG.ACK, no ACK flag).
    @inlinable
    mutating func synProxyResetBadCookie(
        frame: inout MutableSpan<UInt8>, length: inout Int, now: UInt64, network: borrowing NetworkView
    ) -> Verdict {
        guard synProxy.resetBudget.take(now: now) else { return .drop(.badCookie) }
        guard let side = answerWithReset(frame: &frame, length: &length, network: network) else {
            return .drop(.badCookie)
        }
        counters.count(.synProxyResetsSent)
        return .transmit(side)
    }

    /// A segment matching an entry of a SYN-proxied connection. Returns nil when the entry was
    /// released and the segment opens a new connection (a new handshake on a closing tuple).
    @inlinable
    mutating func synProxyExisting(
        _ id: ConnectionID, direction: FlowDirection, frame: inout MutableSpan<UInt8>, length: inout Int,
        now: UInt64, network: borrowing NetworkView
    ) -> Verdict? {
        let c = table[id]
        let pending = c.flags & connectionSynProxyPending != 0
        if direction == .outbound {
            if pending {
                guard c.state == .synSent else { return .drop(.invalidState) }
                return synProxyServerAnswer(id, frame: &frame, length: &length, now: now, network: network)
            }
            return synProxyOutbound(id, frame: &frame, length: &length, now: now, network: network)
        }
        let kinds = info.tcpFlags & (tcpSYN | tcpACK | tcpRST | tcpFIN)
        if c.state == .timeWait || c.state == .close {
            if kinds == tcpSYN {
                // As in FULLNAT: a new handshake on a closing tuple starts over (S1 answers it).
                release(id)
                return nil
            }
            // A cookie only verifies on a segment sent before the client got any RS data (ack =
            // cookie + 1): from the old connection that is one acknowledging ISN_rs + 1, which is
            // still `clientAck` unless the RS sent data. Anything else with a valid cookie is new.
            let ack = frame.u32(info.l4Offset + 8)
            if !pending && kinds & (tcpSYN | tcpRST) == 0 && kinds & tcpACK != 0 && ack &- c.ackDelta != c.clientAck
                && synProxy.cookies.check(
                    cookie: ack &- 1, source: info.source, destination: info.destination,
                    sourcePort: info.sourcePort, destinationPort: info.destinationPort,
                    clientISN: frame.u32(info.l4Offset + 4) &- 1, nowMilliseconds: now) != nil
            {
                // A completed new handshake; an invalid cookie is the old connection's straggler.
                release(id)
                counters.count(.synProxyReused)
                return nil
            }
        }
        if pending { return synProxyHold(id, frame: &frame, length: &length, now: now, network: network) }
        return synProxyInbound(id, frame: &frame, length: &length, now: now, network: network)
    }

    /// S3: a client segment while the RS handshake is pending is held (bounded), never forwarded.
    @inlinable
    mutating func synProxyHold(
        _ id: ConnectionID, frame: inout MutableSpan<UInt8>, length: inout Int, now: UInt64,
        network: borrowing NetworkView
    ) -> Verdict {
        let c = table[id]
        guard c.state == .synSent else { return .drop(.invalidState) }
        let kinds = info.tcpFlags & (tcpSYN | tcpACK | tcpRST | tcpFIN)
        let l4 = info.l4Offset
        if kinds & tcpRST != 0 {
            return synProxyClientAbort(id, frame: &frame, length: &length, now: now, network: network)
        }
        guard kinds & tcpSYN == 0, kinds & tcpACK != 0 else { return .drop(.invalidState) }
        // Only the client knows the cookie: its segments acknowledge exactly our SYN-ACK.
        guard frame.u32(l4 + 8) == c.ackDelta &+ 1 else { return .drop(.invalidState) }
        let segment = synProxyHeldSegment(frame.span)
        if synProxy.queue.holdsCopy(of: segment, for: id) { return .drop(.heldDuplicate) }
        guard synProxy.queue.append(id, frame: frame.span, segment: segment, limit: synProxy.configuration.queueLength)
        else {
            return .drop(.holdQueueFull)
        }
        counters.count(.synProxySegmentsHeld)
        return .drop(.heldForReplay)
    }

    /// A client RST while the RS handshake is pending: accepted when its sequence number lies in what
    /// the client has sent (RFC 5961 §3 with the held segments as the window). The real server,
    /// which got only our SYN, is reset at our ISN + 1 so its half-open entry goes at once.
    @inlinable
    mutating func synProxyClientAbort(
        _ id: ConnectionID, frame: inout MutableSpan<UInt8>, length: inout Int, now: UInt64,
        network: borrowing NetworkView
    ) -> Verdict {
        let c = table[id]
        let seq = frame.u32(info.l4Offset + 4)
        let first = synProxy.queue.first(of: id)
        guard first >= 0 else { return .drop(.invalidState) }
        let start = synProxy.queue[first].sequence
        // Wrapping distances from the first held sequence number.
        guard seq &- start <= synProxyClientNext(id) &- start else { return .drop(.rstOutOfWindow) }
        counters.count(.synProxyClientAborts)
        var egress = Egress()
        let unreachable = resolveEgress(to: c.real, from: c.routeToReal, network: network, into: &egress)
        release(id)
        if let reason = unreachable { return .drop(reason) }
        let segment = TCPSegmentBuilder.Segment(
            sourceMAC: egress.sourceMAC, destinationMAC: egress.destinationMAC, source: c.local, destination: c.real,
            sourcePort: c.localPort, destinationPort: c.realPort, sequence: c.serverAck, acknowledgement: 0,
            flags: tcpRST, window: 0)
        let n = TCPSegmentBuilder.build(&frame, segment)
        guard n > 0 else { return .drop(.noRoom) }
        length = n
        return .transmit(egress.side)
    }

    /// The client's next sequence number as far as the held segments tell (its SND.NXT).
    @inlinable @inline(__always)
    func synProxyClientNext(_ id: ConnectionID) -> UInt32 {
        var slot = synProxy.queue.first(of: id)
        guard slot >= 0 else { return 0 }
        var next = synProxy.queue[slot].end
        while slot >= 0 {
            let end = synProxy.queue[slot].end
            // Wrap-aware "after" (RFC 9293 §3.4).
            if Int32(bitPattern: end &- next) > 0 { next = end }
            slot = synProxy.queue.next(after: slot)
        }
        return next
    }

    /// The metadata of the client segment `info` describes (the frame up to the IP datagram's end,
    /// so Ethernet padding is not held).
    @inlinable
    func synProxyHeldSegment(_ frame: Span<UInt8>) -> SynProxySegmentQueue.Segment {
        let l4 = info.l4Offset
        let seq = frame.u32(l4 + 4)
        let fin: UInt32 = info.tcpFlags & tcpFIN != 0 ? 1 : 0
        let timestampOffset = info.tcpOptions.timestampOffset
        return SynProxySegmentQueue.Segment(
            length: UInt16(clamping: info.ipEnd), flags: info.tcpFlags, window: frame.u16(l4 + 14), sequence: seq,
            end: seq &+ UInt32(truncatingIfNeeded: info.payloadLength) &+ fin,
            timestampValue: timestampOffset >= 0 ? frame.u32(timestampOffset) : 0)
    }
}
