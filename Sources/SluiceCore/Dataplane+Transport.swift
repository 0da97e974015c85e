// TCP and UDP in FULLNAT (docs/protocol.md §3): connection lookup by the packet's own 4-tuple (each
// connection is indexed under its inbound and its outbound tuple), creation on a client SYN (or
// first UDP datagram) to a VIP, and the in-place rewrite in both directions.
//
// Sequence spaces. The real server sees an ISN of Sluice's choosing on the LIP leg (RFC 6528
// keyed PRF + clock, pitfall 5): `seqDelta` = ISN_rs-leg − ISN_client is added to client→RS seq
// and subtracted from RS→client ack and SACK edges. `ackDelta` (δsp, set by SYNPROXY) moves RS
// sequence numbers the other way and is 0 in plain FULLNAT. TCP timestamps are kept end to end
// with a per-connection offset that maps the client's TSval clock onto Sluice's millisecond
// clock, so TSvals on a LIP:lport reused by a later client still grow (pitfall 1, RFC 7323 §5).
// All sequence arithmetic wraps modulo 2^32 (`&+`, `&-`).

import SluicePacket

// Short names for SluicePacket's TCP flag bits, used throughout the data plane.
@usableFromInline let tcpFIN = TCPFlag.fin
@usableFromInline let tcpSYN = TCPFlag.syn
@usableFromInline let tcpRST = TCPFlag.rst
@usableFromInline let tcpACK = TCPFlag.ack

extension Dataplane {
    @inlinable
    mutating func processTransport(
        frame: inout MutableSpan<UInt8>, length: inout Int, now: UInt64, network: borrowing NetworkView
    ) -> Verdict {
        let key = FlowKey(
            source: info.source, destination: info.destination, sourcePort: info.sourcePort,
            destinationPort: info.destinationPort, transport: info.l4Protocol)
        if let owner = foreignOwner(of: key) { return .handOff(owner) }
        let isTCP = info.l4Protocol == 6
        // A SYN-proxied entry waiting for its RS has its next SYN retransmission in `expiry`.
        var found = table.lookup(key)
        if let hit = found, table.isExpired(hit.id, at: now), !isAwaitingServer(hit.id) {
            // Expired but not yet reaped by the timer wheel: it no longer exists.
            release(hit.id)
            counters.count(.connectionsExpired)
            found = nil
        }
        if let hit = found {
            // A forged "server" segment from outside or a client segment from the server side.
            if arrivedOnWrongSide(hit.direction) { return .drop(.wrongSide) }
            if table[hit.id].realServerIndex == Self.goneRealServer {
                return answerGone(hit.id, frame: &frame, length: &length, network: network)
            }
            if table[hit.id].flags & connectionSynProxy != 0 {
                if let verdict = synProxyExisting(
                    hit.id, direction: hit.direction, frame: &frame, length: &length, now: now, network: network)
                {
                    return verdict
                }
            } else {
                if hit.direction == .outbound {
                    return translateOutbound(hit.id, frame: &frame, length: &length, now: now, network: network)
                }
                let state = table[hit.id].state
                let flags = info.tcpFlags
                let freshSYN = isTCP && flags & (tcpSYN | tcpACK | tcpRST | tcpFIN) == tcpSYN
                if !(freshSYN && (state == .timeWait || state == .close)) {
                    return translateInbound(hit.id, frame: &frame, length: &length, now: now, network: network)
                }
                // A new handshake on a tuple whose entry is closing down starts over with a fresh LIP
                // port and ISN, so the old deltas never leak into the new connection (pitfall 6).
                release(hit.id)
            }
        }
        if let service = services.service(
            address: info.destination, port: info.destinationPort, transport: info.l4Protocol)
        {
            // New flows come from clients, on the external side.
            if arrivedOnWrongSide(.inbound) { return .drop(.wrongSide) }
            if isTCP
                && (services.services[service].configuration.synProxy
                    || (services.synProxyAuto[service] && synProxyAutoTakes(service: service, now: now)))
            {
                return synProxyNew(service: service, frame: &frame, length: &length, now: now, network: network)
            }
            return newConnection(service: service, frame: &frame, length: &length, now: now, network: network)
        }
        if services.isLocalAddress(info.destination) {
            if workerCount > 1 && PortPool.owner(ofPort: info.destinationPort, workerCount: workerCount) != worker {
                return .drop(.wrongWorker)
            }
            return .drop(.noConnection)
        }
        return .drop(.noService)
    }

    @inlinable
    mutating func newConnection(
        service: Int, frame: inout MutableSpan<UInt8>, length: inout Int, now: UInt64,
        network: borrowing NetworkView
    ) -> Verdict {
        let isTCP = info.l4Protocol == 6
        if isTCP && info.tcpFlags & (tcpSYN | tcpACK | tcpRST | tcpFIN) != tcpSYN {
            // Only a SYN opens a FULLNAT connection; anything else is a stray for a lost entry.
            return .drop(.noConnection)
        }
        // New UDP flows have budgets (UDPFlowBudget.swift): a UDP flood cannot take what TCP, the
        // other services or the other clients need.
        if !isTCP, let refusal = udpBudget.refusal(service: service, source: info.source) {
            return .drop(refusal)
        }
        var failure = DropReason.connectionTableFull
        guard
            let c = draftConnection(
                service: service, state: isTCP ? .none : .udpOneway, expiresAt: now &+ 3000,
                clientISN: isTCP ? frame.u32(info.l4Offset + 4) : nil, now: now, failure: &failure)
        else { return .drop(failure) }
        guard let id = commitConnection(c) else { return .drop(.connectionTableFull) }
        if !isTCP { udpBudget.opened(service: service, source: info.source) }
        return translateInbound(id, frame: &frame, length: &length, now: now, network: network)
    }

    /// Client → real server.
    @inlinable
    mutating func translateInbound(
        _ id: ConnectionID, frame: inout MutableSpan<UInt8>, length: inout Int, now: UInt64,
        network: borrowing NetworkView
    ) -> Verdict {
        let c = table[id]
        var egress = Egress()
        if let reason = resolveEgress(
            to: c.real, from: c.routeToReal, flowHash: Self.pathHash(of: id), network: network, into: &egress)
        {
            return .drop(reason)
        }
        var headerDelta: UInt64 = 0
        if let verdict = checkMTUAndTTL(
            frame: &frame, length: &length, egress: egress, errorSource: c.vip, now: now, network: network,
            headerDelta: &headerDelta)
        {
            return verdict
        }
        // Seq and ack (TCP only) move in the same checksum update as the addresses.
        rewriteAddresses(
            frame: &frame, source: c.local, sourcePort: c.localPort, destination: c.real,
            destinationPort: c.realPort, headerDelta: headerDelta, sequenceDelta: c.seqDelta,
            acknowledgementDelta: 0 &- c.ackDelta)
        if c.transport == 6 {
            let l4 = info.l4Offset
            let flags = info.tcpFlags
            var timestampOffset = c.aux0
            var connectionFlags = c.flags
            if info.tcpHeaderLength > 20 {
                // The parser already walked the options (and dropped malformed ones).
                options = info.tcpOptions
                if options.toaOffset >= 0 {
                    // A client must not choose the address the real server believes (pitfall 14).
                    _ = TCPOptions.nopOut(&frame, offset: options.toaOffset, length: options.toaLength, tcpOffset: l4)
                    counters.count(.toaStripped)
                }
                if flags & tcpSYN != 0 {
                    // The MSS a SYN announces limits what the real server sends back towards the client.
                    clampMSS(frame: &frame, pathMTU: pathMTU(to: c.client, from: c.routeToClient, network: network))
                    if options.timestampOffset >= 0 && c.state == .none {
                        // Map the client's TS clock onto ours (see the file comment).
                        timestampOffset = UInt32(truncatingIfNeeded: now) &- frame.u32(options.timestampOffset)
                        connectionFlags |= connectionHasTimestamps
                    }
                }
                if options.timestampOffset >= 0 && connectionFlags & connectionHasTimestamps != 0 {
                    rewriteSequence(frame: &frame, at: options.timestampOffset, delta: timestampOffset)
                }
                if options.sackBlockCount > 0 && c.ackDelta != 0 {
                    TCPOptions.translateSACK(&frame, tcpOffset: l4, summary: options, delta: 0 &- c.ackDelta)
                }
            }
            if connectionFlags & connectionSynProxy != 0 { synProxyAdjustInbound(c, frame: &frame) }
            if connectionFlags & connectionClientAddressPending != 0 {
                clientAddressInbound(id, frame: &frame, length: &length, egress: egress, now: now)
            }
            let next = TCPStateMachine.next(c.state, direction: .inbound, flags: flags)
            // SYNPROXY keeps the highest in its own translation; plain FULLNAT (ackDelta 0) keeps the
            // last, which is what a RST to the client must carry if the real server goes away.
            let clientAck: UInt32? =
                flags & tcpACK != 0 && connectionFlags & connectionSynProxy == 0 ? frame.u32(l4 + 8) : nil
            var expiry: UInt64? = nil
            if next == c.state {
                // The state stays (most segments): the expiry joins the entry's other writes below.
                expiry = now &+ timeout(for: next, service: Int(c.serviceIndex))
            } else {
                updateState(id, from: c.state, to: next, now: now)
            }
            // One access for all of the entry's writes (each access checks the table's storage is
            // unique, a runtime call).
            Self.noteInbound(
                &table[id], expiry: expiry, timestampOffset: timestampOffset, clientAck: clientAck,
                flags: connectionFlags)
        } else {
            table[id].expire(at: now &+ timeout(for: c.state, service: Int(c.serviceIndex)))
        }
        guard EthernetHeader.setAddresses(&frame, destination: egress.destinationMAC, source: egress.sourceMAC) else {
            return .drop(.truncated)
        }
        counters.count(.forwardedInbound)
        countServerTraffic(
            service: Int(c.serviceIndex), server: Int(c.realServerIndex), field: Self.trafficInbound, bytes: length)
        return .transmit(egress.side)
    }

    /// The entry's writes for a client segment. Only translateInbound sets `connectionHasTimestamps`
    /// and `connectionSynProxy` through here; clientAddressInbound may have cleared the pending bit.
    @inlinable @inline(__always)
    static func noteInbound(
        _ entry: inout Connection, expiry: UInt64?, timestampOffset: UInt32, clientAck: UInt32?, flags: UInt16
    ) {
        if let expiry { entry.expire(at: expiry) }
        entry.aux0 = timestampOffset
        if let clientAck { entry.clientAck = clientAck }
        entry.flags = flags & ~connectionClientAddressPending | entry.flags & connectionClientAddressPending
    }

    /// Real server → client.
    @inlinable
    mutating func translateOutbound(
        _ id: ConnectionID, frame: inout MutableSpan<UInt8>, length: inout Int, now: UInt64,
        network: borrowing NetworkView
    ) -> Verdict {
        let c = table[id]
        var egress = Egress()
        if let reason = resolveEgress(
            to: c.client, from: c.routeToClient, flowHash: Self.pathHash(of: id), network: network, into: &egress)
        {
            return .drop(reason)
        }
        var headerDelta: UInt64 = 0
        if let verdict = checkMTUAndTTL(
            frame: &frame, length: &length, egress: egress, errorSource: c.local, now: now, network: network,
            headerDelta: &headerDelta)
        {
            return verdict
        }
        // While a PROXY header is unacknowledged the ack's shift depends on the segment
        // (clientAddressOutbound reads the ack as the real server sent it, so it runs first).
        let pending = c.transport == 6 && c.flags & connectionClientAddressPending != 0
        let seqDelta = pending ? clientAddressOutbound(id, frame: &frame) : c.seqDelta
        // Seq and ack (TCP only) move in the same checksum update as the addresses.
        rewriteAddresses(
            frame: &frame, source: c.vip, sourcePort: c.vport, destination: c.client, destinationPort: c.clientPort,
            headerDelta: headerDelta, sequenceDelta: c.ackDelta, acknowledgementDelta: 0 &- seqDelta)
        if c.transport == 6 {
            let l4 = info.l4Offset
            let flags = info.tcpFlags
            if info.tcpHeaderLength > 20 {
                // The parser already walked the options (and dropped malformed ones).
                options = info.tcpOptions
                if flags & tcpSYN != 0 {
                    // The SYN-ACK's MSS limits what the client sends towards the real server, which
                    // must leave room for a TOA option.
                    clampMSS(
                        frame: &frame, pathMTU: pathMTU(to: c.real, from: c.routeToReal, network: network),
                        reserve: toaRoom(service: Int(c.serviceIndex), v6: info.isV6))
                }
                if options.sackBlockCount > 0 {
                    // While a PROXY header is unacknowledged, SACK blocks are about data after it.
                    let entry = table[id]
                    let header =
                        entry.flags & connectionClientAddressPending != 0 ? UInt32(entry.repeatFingerprint) : 0
                    TCPOptions.translateSACK(
                        &frame, tcpOffset: l4, summary: options, delta: 0 &- (seqDelta &+ header))
                }
                if options.timestampOffset >= 0 && c.flags & connectionHasTimestamps != 0 {
                    rewriteSequence(frame: &frame, at: options.timestampOffset + 4, delta: 0 &- c.aux0)
                }
            }
            if c.flags & connectionSynProxy != 0 { synProxyAdjustOutbound(c, frame: &frame) }
            let next = TCPStateMachine.next(c.state, direction: .outbound, flags: flags)
            updateState(id, from: c.state, to: next, now: now)
        } else {
            if c.state == .udpOneway { updateState(id, from: c.state, to: .udpNormal, now: now) }
            table[id].expire(at: now &+ timeout(for: .udpNormal, service: Int(c.serviceIndex)))
        }
        guard EthernetHeader.setAddresses(&frame, destination: egress.destinationMAC, source: egress.sourceMAC) else {
            return .drop(.truncated)
        }
        counters.count(.forwardedOutbound)
        countServerTraffic(
            service: Int(c.serviceIndex), server: Int(c.realServerIndex), field: Self.trafficOutbound, bytes: length)
        return .transmit(egress.side)
    }

    /// Moves a connection to `next`, refreshing its expiry; a state change re-arms the timer so a
    /// shorter timeout (CLOSE after ESTABLISHED) takes effect on time.
    @inlinable @inline(__always)
    mutating func updateState(_ id: ConnectionID, from old: ConnectionState, to next: ConnectionState, now: UInt64) {
        let service = Int(table[id].serviceIndex)
        let expiry = now &+ timeout(for: next, service: service)
        table[id].expire(at: expiry)
        // Most segments keep the state: only the expiry moves, in line.
        guard next != old else { return }
        changeState(id, from: old, to: next, service: service, expiry: expiry)
    }

    /// `updateState` for a state change.
    @usableFromInline @inline(never)
    mutating func changeState(
        _ id: ConnectionID, from old: ConnectionState, to next: ConnectionState, service: Int, expiry: UInt64
    ) {
        noteStateChange(id, from: old, to: next)
        table[id].state = next
        wheel.schedule(id, at: expiry)
        let server = Int(table[id].realServerIndex)
        if service < services.realServerCounts.count && server < services.realServerCounts[service] {
            if next == .established && old != .established {
                services.services[service].scheduler.connectionBecameActive(server)
            } else if old == .established {
                services.services[service].scheduler.connectionBecameInactive(server)
            }
        }
    }

    /// Idle timeout of a state, in milliseconds, with the service's override for ESTABLISHED/UDP.
    @inlinable @inline(__always)
    func timeout(for state: ConnectionState, service: Int) -> UInt64 {
        if (state == .established || state == .udpNormal) && service < services.establishedTimeouts.count {
            return min(services.establishedTimeouts[service], Connection.maximumIdleMilliseconds)
        }
        return min(UInt64(configuration.timeouts[state]) * 1000, Connection.maximumIdleMilliseconds)
    }

    /// Rewrites source and destination address and port, with RFC 1624 updates of the IPv4 header
    /// checksum and of the TCP/UDP checksum (pseudo-header and ports). IPv4 UDP without a checksum
    /// keeps 0; an updated UDP checksum of 0 is sent as 0xFFFF (RFC 768). The address change is one
    /// difference, applied to both checksums, the ports' one more (InternetChecksum.delta): the same
    /// result as updating field by field, in a fraction of the instructions. `headerDelta` (the TTL's,
    /// from checkMTUAndTTL) joins the IPv4 header's update; a TCP segment's sequence number moves by
    /// `sequenceDelta` and, when it carries ACK, its acknowledgement number by `acknowledgementDelta`
    /// (both wrapping; 0 leaves the field alone), in the same TCP checksum update.
    @inlinable @inline(__always)
    mutating func rewriteAddresses(
        frame: inout MutableSpan<UInt8>, source: IPAddress, sourcePort: UInt16, destination: IPAddress,
        destinationPort: UInt16, headerDelta: UInt64 = 0, sequenceDelta: UInt32 = 0, acknowledgementDelta: UInt32 = 0
    ) {
        let l3 = info.l3Offset
        let l4 = info.l4Offset
        let isTCP = info.l4Protocol == 6
        let checksumOffset = l4 + (isTCP ? 16 : 6)
        var l4Checksum = frame.u16(checksumOffset)
        let updateL4 = isTCP || info.isV6 || l4Checksum != 0
        let addresses =
            InternetChecksum.delta(from: info.source, to: source)
            &+ InternetChecksum.delta(from: info.destination, to: destination)
        let ports = UInt32(sourcePort) &<< 16 | UInt32(destinationPort)
        if info.isV6 {
            frame.setAddress(source, at: l3 + 8)
            frame.setAddress(destination, at: l3 + 24)
        } else {
            frame.set16(InternetChecksum.update(frame.u16(l3 + 10), delta: addresses &+ headerDelta), at: l3 + 10)
            frame.set32(source.v4, at: l3 + 12)
            frame.set32(destination.v4, at: l3 + 16)
        }
        if updateL4 {
            let oldPorts = UInt32(info.sourcePort) &<< 16 | UInt32(info.destinationPort)
            var delta = addresses &+ InternetChecksum.delta(from: oldPorts, to: ports)
            if isTCP {
                if sequenceDelta != 0 {
                    let old = frame.u32(l4 + 4)
                    let new = old &+ sequenceDelta  // wraps: sequence space is modulo 2^32
                    frame.set32(new, at: l4 + 4)
                    delta &+= InternetChecksum.delta(from: old, to: new)
                }
                if acknowledgementDelta != 0 && info.tcpFlags & tcpACK != 0 {
                    let old = frame.u32(l4 + 8)
                    let new = old &+ acknowledgementDelta
                    frame.set32(new, at: l4 + 8)
                    delta &+= InternetChecksum.delta(from: old, to: new)
                }
            }
            l4Checksum = InternetChecksum.update(l4Checksum, delta: delta)
            if !isTCP && l4Checksum == 0 { l4Checksum = 0xFFFF }
            frame.set16(l4Checksum, at: checksumOffset)
        }
        frame.set32(ports, at: l4)
    }

    /// Adds `delta` (wrapping) to the 32-bit field at `offset` of a TCP segment, updating the TCP
    /// checksum incrementally.
    @inlinable @inline(__always)
    @discardableResult
    mutating func rewriteSequence(frame: inout MutableSpan<UInt8>, at offset: Int, delta: UInt32) -> Bool {
        guard delta != 0 else { return false }
        let old = frame.u32(offset)
        let new = old &+ delta  // wraps: sequence space is modulo 2^32
        frame.set32(new, at: offset)
        let checksumOffset = info.l4Offset + 16
        frame.set16(InternetChecksum.update(frame.u16(checksumOffset), old32: old, new32: new), at: checksumOffset)
        return true
    }

    /// MTU of the route towards `destination` for a packet like `query` (1500 when unknown), without
    /// needing its neighbour.
    @inlinable @inline(__always)
    func pathMTU(to destination: IPAddress, from query: RouteQuery, network: borrowing NetworkView) -> Int {
        guard let hop = network.nextHop(to: destination, query: query) else { return 1500 }
        if hop.mtu > 0 { return hop.mtu }
        return network.interface(hop.interfaceIndex)?.mtu ?? 1500
    }

    /// Lowers the MSS option of a SYN or SYN-ACK to what the egress MTU carries (and the configured
    /// clamp), less `reserve` bytes, so neither end sends segments the other leg cannot take.
    @inlinable
    mutating func clampMSS(frame: inout MutableSpan<UInt8>, pathMTU: Int, reserve: Int = 0) {
        guard options.mssOffset >= 0 else { return }
        let headers = info.isV6 ? 60 : 40
        var limit = UInt16(clamping: max(pathMTU - headers, 536))
        if configuration.mssClamp > 0 && configuration.mssClamp < limit { limit = configuration.mssClamp }
        // Room for options Sluice adds to the segments this MSS governs (TOA).
        limit = UInt16(clamping: max(Int(limit) - reserve, 64))
        if TCPOptions.clampMSS(&frame, tcpOffset: info.l4Offset, summary: options, to: limit) {
            counters.count(.mssClamped)
        }
    }
}
