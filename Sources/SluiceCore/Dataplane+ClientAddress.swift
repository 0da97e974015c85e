// Telling the real server who the client is (docs/protocol.md §6–8): a TOA option, or a PROXY protocol
// v1/v2 header at the start of the stream. Both modes share one piece of per-connection state, so the
// 128-byte entry needs no new field:
//
// - `connectionClientAddressPending` in `flags` is set when the connection is created and cleared once
//   the real server has acknowledged what it had to learn;
// - while it is set, `serverAck` holds H0, the RS-leg sequence number where the client's stream begins
//   (our ISN + 1; SYNPROXY's RFC 5961 tracking of the RS's acknowledgements is suspended meanwhile, and
//   H0 is exactly the RS's RCV.NXT until it acknowledges anything), and `repeatFingerprint` holds H,
//   the length of the PROXY header (0 for TOA; SYNPROXY's ACK-storm check is suspended meanwhile).
//
// TOA (pitfalls 14–16). Inserted into every client segment after the SYN until the real server
// acknowledges client data (an acknowledgement beyond H0): the handshake-completing ACK, data, and a
// lone data+FIN, so a server that looks at any of them finds it. If the option does not fit the
// header or the egress MTU, other options are pruned by TOA.insert's documented priority; if it still
// does not fit, the segment goes without it (`toaNoRoom`). The MSS we pass to the client on the SYN-ACK
// leaves room for the option, so in practice it always fits.
//
// PROXY protocol (pitfalls 17–19). The header occupies RS-leg sequence space [H0, H0 + H): a client
// segment starting at H0 gets the header in front of its payload (built from the entry, so a
// retransmission of the first segment gets the identical header again and the stream never has a hole
// or a second header), a client segment after H0 is shifted by H. Until the server acknowledges the
// whole header, its acknowledgements are mapped with the shift too (an acknowledgement inside the
// header maps to the client's first byte); once it does, H is folded into `seqDelta` and the
// connection is plain FULLNAT again. When the header does not fit the segment (egress MTU or buffer),
// it goes in a segment of its own, built from the client's translated headers, and the client's
// segment follows shifted by H. With `sendOnConnect` the header goes out on the segment that completes
// the backend handshake (the client's ACK in FULLNAT, the replayed first ACK in SYNPROXY) and is
// resent by Sluice until acknowledged (`ProxyHeaderResends`), for server-first protocols whose client
// sends nothing before the greeting. A client's own PROXY header is never trusted: ours comes first,
// unless the service allows passthrough, in which case a stream that starts with a header is left as
// it is (for a cascade of balancers).

import SluicePacket

extension Dataplane {
    /// Marks a new TCP connection of a service with a client-address mode: H0 = `headerStart`.
    @inlinable
    func prepareClientAddress(_ c: inout Connection, service: Int, headerStart: UInt32) {
        let configuration = services.services[service].configuration
        switch configuration.clientAddress {
        case .none:
            return
        case .toa:
            c.repeatFingerprint = 0
        case .proxyProtocolV1, .proxyProtocolV2:
            c.repeatFingerprint = UInt16(
                truncatingIfNeeded: proxyHeaderLength(
                    c, mode: configuration.clientAddress, options: configuration.clientAddressOptions,
                    headerStart: headerStart))
        }
        c.serverAck = headerStart
        c.flags |= connectionClientAddressPending
    }

    /// Bytes of TCP option space a TOA takes on this service's segments (0 when it uses no TOA): the
    /// MSS announced to the client is lowered by as much.
    @inlinable @inline(__always)
    func toaRoom(service: Int, v6: Bool) -> Int {
        guard service < services.services.count, services.services[service].configuration.clientAddress == .toa
        else { return 0 }
        return v6 ? TOA.lengthV6 : TOA.lengthV4
    }

    /// The id a PROXY v2 UNIQUE_ID TLV carries: the LIP port and H0, which the real server also sees
    /// (its peer port and the first sequence number of the stream), so its logs join with captures.
    @inlinable @inline(__always)
    func proxyUniqueID(_ c: Connection, headerStart: UInt32) -> UInt64 {
        UInt64(worker) &<< 48 | UInt64(c.localPort) &<< 32 | UInt64(headerStart)
    }

    @inlinable @inline(__always)
    func proxyHeaderLength(
        _ c: Connection, mode: ClientAddressMode, options: ClientAddressOptions, headerStart: UInt32
    ) -> Int {
        if mode == .proxyProtocolV1 {
            return ProxyProtocolV1.length(
                source: c.client, sourcePort: c.clientPort, destination: c.vip, destinationPort: c.vport)
        }
        return ProxyProtocolV2.length(
            v6: c.client.isV6, uniqueID: options.uniqueID ? proxyUniqueID(c, headerStart: headerStart) : nil,
            crc32c: options.crc32c)
    }

    /// Writes connection `c`'s PROXY header at `at`; returns its length, or 0 when the service's mode
    /// no longer produces a header of length `expected` (changed by a reload) or it does not fit.
    @inlinable
    func writeProxyHeader(_ c: Connection, into frame: inout MutableSpan<UInt8>, at: Int, expected: Int) -> Int {
        let service = Int(c.serviceIndex)
        guard service < services.services.count else { return 0 }
        let configuration = services.services[service].configuration
        let mode = configuration.clientAddress
        let options = configuration.clientAddressOptions
        guard mode == .proxyProtocolV1 || mode == .proxyProtocolV2,
            proxyHeaderLength(c, mode: mode, options: options, headerStart: c.serverAck) == expected
        else { return 0 }
        if mode == .proxyProtocolV1 {
            return ProxyProtocolV1.write(
                into: &frame, at: at, source: c.client, sourcePort: c.clientPort, destination: c.vip,
                destinationPort: c.vport)
        }
        return ProxyProtocolV2.write(
            into: &frame, at: at, source: c.client, sourcePort: c.clientPort, destination: c.vip,
            destinationPort: c.vport, uniqueID: options.uniqueID ? proxyUniqueID(c, headerStart: c.serverAck) : nil,
            crc32c: options.crc32c)
    }

    /// Client → RS, after the rest of the translation, while the client address is pending. May grow
    /// the frame (TOA, PROXY header) or queue a separate header segment.
    @inlinable
    mutating func clientAddressInbound(
        _ id: ConnectionID, frame: inout MutableSpan<UInt8>, length: inout Int, egress: Egress, now: UInt64
    ) {
        let c = table[id]
        let flags = info.tcpFlags
        guard flags & tcpSYN == 0 else { return }
        let headerLength = Int(c.repeatFingerprint)
        if headerLength == 0 {
            guard flags & (tcpRST | tcpACK) == tcpACK else { return }
            let service = Int(c.serviceIndex)
            let kind =
                service < services.services.count
                ? services.services[service].configuration.clientAddressOptions.toaKind : TOA.defaultKind
            switch TOA.insert(
                into: &frame, length: &length, info: &info, port: c.clientPort, address: c.client, kind: kind,
                mtu: egress.mtu)
            {
            case .inserted:
                counters.count(.toaInserted)
            case .pruned:
                counters.count(.toaInserted)
                counters.count(.toaPruned)
            case .noRoom, .malformed:
                counters.count(.toaNoRoom)
            }
            return
        }
        let l4 = info.l4Offset
        let offset = Int32(bitPattern: frame.u32(l4 + 4) &- c.serverAck)  // wrapping distance from H0
        if offset > 0 {
            rewriteSequence(frame: &frame, at: l4 + 4, delta: UInt32(truncatingIfNeeded: headerLength))
            return
        }
        guard offset == 0, flags & (tcpRST | tcpACK) == tcpACK else { return }
        let service = Int(c.serviceIndex)
        let known = service < services.services.count
        let mode = known ? services.services[service].configuration.clientAddress : .none
        let options = known ? services.services[service].configuration.clientAddressOptions : ClientAddressOptions()
        let isProxy = mode == .proxyProtocolV1 || mode == .proxyProtocolV2
        guard isProxy, proxyHeaderLength(c, mode: mode, options: options, headerStart: c.serverAck) == headerLength
        else {
            // A reload changed the service: no header for this connection, and nothing to shift.
            table[id].flags &= ~connectionClientAddressPending
            table[id].repeatFingerprint = 0
            counters.count(.proxyHeadersSkipped)
            return
        }
        if info.payloadLength > 0 {
            let found = ProxyProtocol.detect(frame.span, from: info.payloadOffset, count: info.payloadLength)
            if found != .none {
                if options.passthrough {
                    // A cascade: the balancer in front already wrote the header; nothing to shift.
                    table[id].flags &= ~connectionClientAddressPending
                    table[id].repeatFingerprint = 0
                    counters.count(.proxyHeadersPassedThrough)
                    return
                }
                counters.count(.proxyHeadersFromClient)
            }
        } else if flags & tcpFIN == 0 && !options.sendOnConnect {
            // The pure ACK completing the handshake: the header waits for the client's first byte.
            return
        }
        let room = min(frame.count, info.l3Offset &+ egress.mtu)
        if info.ipEnd &+ headerLength <= room {
            insertProxyHeader(c, frame: &frame, length: &length, headerLength: headerLength)
        } else {
            // No room in this segment: the header goes alone, the segment follows it.
            queueProxyHeaderSegment(c, frame: frame.span, egress: egress, headerLength: headerLength)
            rewriteSequence(frame: &frame, at: l4 + 4, delta: UInt32(truncatingIfNeeded: headerLength))
        }
        if options.sendOnConnect && !proxyResends.contains(id, start: c.serverAck) {
            keepProxyHeaderForResend(
                id, c, frame: frame.span, egress: egress, headerLength: headerLength, now: now)
        }
    }

    /// Opens `headerLength` bytes at the start of the payload and writes the header there
    /// (`TCPPayloadPrefix.insert`: incremental checksums, PSH on an empty payload).
    @inlinable
    mutating func insertProxyHeader(
        _ c: Connection, frame: inout MutableSpan<UInt8>, length: inout Int, headerLength: Int
    ) {
        let inserted = TCPPayloadPrefix.insert(count: headerLength, into: &frame, length: &length, info: info) {
            frame, at in writeProxyHeader(c, into: &frame, at: at, expected: headerLength)
        }
        guard inserted else {
            // The service changed under a reload: the segment goes as it was.
            counters.count(.proxyHeadersSkipped)
            return
        }
        info.ipEnd &+= headerLength
        info.payloadLength &+= headerLength
        counters.count(.proxyHeadersInserted)
    }

    /// Builds the header-only segment of connection `c` from the translated client segment `frame`
    /// (its IP and TCP headers; seq at H0) into `out`, addressed to `egress`'s next hop (the client
    /// segment's Ethernet addresses are only rewritten after this); returns its length or 0.
    @inlinable
    func buildProxyHeaderSegment(
        _ c: Connection, from frame: Span<UInt8>, into out: inout MutableSpan<UInt8>, headerLength: Int,
        egress: Egress
    ) -> Int {
        let start = info.payloadOffset
        let total = start &+ headerLength
        guard total <= out.count else { return 0 }
        out.copyBytes(from: frame, sourceOffset: 0, to: 0, count: start)
        guard EthernetHeader.setAddresses(&out, destination: egress.destinationMAC, source: egress.sourceMAC) else {
            return 0
        }
        guard writeProxyHeader(c, into: &out, at: start, expected: headerLength) == headerLength else { return 0 }
        let l3 = info.l3Offset
        let l4 = info.l4Offset
        out.set32(c.serverAck, at: l4 &+ 4)
        out[l4 &+ 13] = TCPFlag.ack | TCPFlag.psh
        if info.isV6 {
            out.set16(UInt16(truncatingIfNeeded: total &- l3 &- 40), at: l3 &+ 4)
        } else {
            out.set16(UInt16(truncatingIfNeeded: total &- l3), at: l3 &+ 2)
            out.set16(0, at: l3 &+ 10)
            out.set16(
                InternetChecksum.finish(InternetChecksum.sum(out.span, from: l3, count: info.ipHeaderLength)),
                at: l3 &+ 10)
        }
        let tcpLength = total &- l4
        out.set16(0, at: l4 &+ 16)
        var sum = InternetChecksum.pseudoHeader(
            source: c.local, destination: c.real, protocol: 6, length: tcpLength)
        sum = InternetChecksum.sum(out.span, from: l4, count: tcpLength, into: sum)
        out.set16(InternetChecksum.finish(sum), at: l4 &+ 16)
        return total
    }

    /// Queues the header as a segment of its own, sent before the client segment it precedes.
    @inlinable
    mutating func queueProxyHeaderSegment(_ c: Connection, frame: Span<UInt8>, egress: Egress, headerLength: Int) {
        var scratch: [UInt8] = []
        swap(&scratch, &synProxy.scratch)
        var buffer = scratch.mutableSpan
        let n = buildProxyHeaderSegment(c, from: frame, into: &buffer, headerLength: headerLength, egress: egress)
        let queued =
            n > 0
            && output.append(side: egress.side) { out in
                guard n <= out.count else { return 0 }
                out.copyBytes(from: scratch.span, sourceOffset: 0, to: 0, count: n)
                return n
            }
        swap(&scratch, &synProxy.scratch)
        if queued {
            counters.count(.proxyHeadersSeparate)
            counters.count(.generatedFrames)
        } else {
            counters.count(n == 0 ? .proxyHeadersSkipped : .generatedFramesDropped)
        }
    }

    /// Keeps a header-only copy of the segment for resending until the real server acknowledges it.
    @inlinable
    mutating func keepProxyHeaderForResend(
        _ id: ConnectionID, _ c: Connection, frame: Span<UInt8>, egress: Egress, headerLength: Int, now: UInt64
    ) {
        var scratch: [UInt8] = []
        swap(&scratch, &synProxy.scratch)
        var buffer = scratch.mutableSpan
        let n = buildProxyHeaderSegment(c, from: frame, into: &buffer, headerLength: headerLength, egress: egress)
        if n == 0 || !proxyResends.add(buffer.span, length: n, side: egress.side, id: id, start: c.serverAck, now: now)
        {
            counters.count(.proxyHeaderResendsUntracked)
        }
        swap(&scratch, &synProxy.scratch)
    }

    /// RS → client, before the rest of the translation, while the client address is pending: checks
    /// whether the server now has what it needed, and maps acknowledgements inside a PROXY header.
    /// Returns the `seqDelta` this segment's acknowledgement is translated with.
    @inlinable
    mutating func clientAddressOutbound(_ id: ConnectionID, frame: inout MutableSpan<UInt8>) -> UInt32 {
        let c = table[id]
        let headerLength = UInt32(c.repeatFingerprint)
        guard info.tcpFlags & tcpACK != 0 else { return c.seqDelta }
        let l4 = info.l4Offset
        let ack = frame.u32(l4 + 8)
        let acknowledged = Int32(bitPattern: ack &- c.serverAck)  // wrapping distance from H0
        if acknowledged >= Int32(bitPattern: max(headerLength, 1)) {
            // Everything the server needed is acknowledged: fold the header into the delta and
            // resume SYNPROXY's tracking of the RS's acknowledgements.
            let delta = c.seqDelta &+ headerLength
            table[id].seqDelta = delta
            table[id].serverAck = ack
            table[id].repeatFingerprint = 0
            table[id].flags &= ~connectionClientAddressPending
            return delta
        }
        if acknowledged > 0 {
            // Part of the header only: to the client that is its first byte, not yet acknowledged.
            rewriteSequence(frame: &frame, at: l4 + 8, delta: 0 &- UInt32(bitPattern: acknowledged))
        }
        return c.seqDelta
    }

    /// Resends due self-sent PROXY headers and forgets acknowledged or abandoned ones.
    @usableFromInline
    mutating func resendProxyHeaders(now: UInt64) {
        var i = 0
        while i < proxyResends.count {
            let id = proxyResends.ids[i]
            let live =
                table.isLive(id) && table[id].flags & connectionClientAddressPending != 0
                && table[id].serverAck == proxyResends.starts[i]
            if !live {
                proxyResends.remove(at: i)
                continue
            }
            if proxyResends.deadlines[i] > now {
                i &+= 1
                continue
            }
            if proxyResends.resends[i] >= ProxyHeaderResends.maximumResends {
                counters.count(.proxyHeaderResendsAbandoned)
                proxyResends.remove(at: i)
                continue
            }
            let n = proxyResends.lengths[i]
            let base = i &* ProxyHeaderResends.slotSize
            let stored = proxyResends.bytes
            let queued = output.append(side: proxyResends.sides[i]) { out in
                guard n <= out.count else { return 0 }
                out.copyBytes(from: stored.span, sourceOffset: base, to: 0, count: n)
                return n
            }
            counters.count(queued ? .proxyHeaderResends : .generatedFramesDropped)
            if queued { counters.count(.generatedFrames) }
            proxyResends.resends[i] &+= 1
            proxyResends.deadlines[i] =
                now &+ ProxyHeaderResends.initialTimeoutMilliseconds &<< UInt64(proxyResends.resends[i])
            i &+= 1
        }
    }
}
