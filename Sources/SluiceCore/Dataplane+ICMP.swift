// ICMP errors about FULLNAT connections, both ways (docs/protocol.md §3 "ICMP errors", pitfall 24).
// Only error types are related (v4: destination unreachable incl. fragmentation needed, source
// quench, time exceeded; v6: destination unreachable, packet too big, time exceeded). The quoted
// packet is one Sluice sent, so its tuple *reversed* is the connection's tuple as received:
//
//   from the real-server side, quoting LIP:lport → RIP:rport (matches the outbound key):
//     outer  → VIP → CIP        inner → CIP:cport → VIP:vport, inner seq − seqDelta
//   from the client side, quoting VIP:vport → CIP:cport (matches the inbound key):
//     outer  → LIP → RIP        inner → RIP:rport → LIP:lport, inner seq − ackDelta
//
// That is what makes path-MTU discovery work through the gateway: a router between Sluice and the
// real server that cannot carry the client's segments reports it to the LIP, and the client
// learns it about the VIP. The ICMP checksum is verified (by parseICMPError) before anything is rewritten,
// then updated incrementally (RFC 1624) by the quoted headers' change: their sum before and after the
// rewrite (a few dozen bytes, where summing the whole message again was most of the work), and for
// ICMPv6 the pseudo-header's addresses. The result equals a recomputation because the message verified;
// one that did not is dropped, never re-summed into a valid one (docs/design.md §4.6). The quoted L4
// checksum is updated incrementally when quoted.

import SluicePacket

extension Dataplane {
    @inlinable
    mutating func processICMP(
        frame: inout MutableSpan<UInt8>, length: inout Int, now: UInt64, network: borrowing NetworkView
    ) -> Verdict {
        if let reason = PacketParser.parseICMPError(frame.span, info: info, into: &embedded) { return .drop(reason) }
        guard embedded.l4Protocol == 6 || embedded.l4Protocol == 17, embedded.isV6 == info.isV6 else {
            return .drop(.icmpNotRelated)
        }
        let key = FlowKey(
            source: embedded.destination, destination: embedded.source, sourcePort: embedded.destinationPort,
            destinationPort: embedded.sourcePort, transport: embedded.l4Protocol)
        if let owner = foreignOwner(of: key) { return .handOff(owner) }
        guard let hit = table.lookup(key) else { return .drop(.noConnection) }
        // An error about what was sent to a real server comes from the internal side, one about what
        // was sent to a client from the external side.
        if arrivedOnWrongSide(hit.direction) { return .drop(.wrongSide) }
        let c = table[hit.id]
        // New outer addresses, new inner (quoted) addresses/ports, and the quoted seq's delta.
        let outerSource: IPAddress
        let outerDestination: IPAddress
        let innerSource: IPAddress
        let innerSourcePort: UInt16
        let innerDestination: IPAddress
        let innerDestinationPort: UInt16
        let seqAdjust: UInt32
        if hit.direction == .outbound {
            outerSource = c.vip
            outerDestination = c.client
            innerSource = c.client
            innerSourcePort = c.clientPort
            innerDestination = c.vip
            innerDestinationPort = c.vport
            var shift = c.seqDelta
            if c.flags & connectionClientAddressPending != 0 && embedded.l4Protocol == 6 && embedded.hasTCPSequence {
                // A segment after an unacknowledged PROXY header was shifted by its length.
                let seq = frame.u32(embedded.l4Offset + 4)
                if Int32(bitPattern: seq &- c.serverAck) > 0 { shift &+= UInt32(c.repeatFingerprint) }
            }
            seqAdjust = 0 &- shift
        } else {
            outerSource = c.local
            outerDestination = c.real
            innerSource = c.real
            innerSourcePort = c.realPort
            innerDestination = c.local
            innerDestinationPort = c.localPort
            seqAdjust = 0 &- c.ackDelta
        }
        var egress = Egress()
        if let reason = resolveEgress(
            to: outerDestination, from: .icmp(from: outerSource), network: network, into: &egress)
        {
            return .drop(reason)
        }
        if info.ipEnd - info.l3Offset > egress.mtu { return .drop(.tooBig) }
        if configuration.decrementTTL && frame.u8(info.hopLimitOffset) <= 1 { return .drop(.ttlExceeded) }
        // Everything rewriteEmbedded changes lies in the quoted IP header and the first 20 bytes of the
        // quoted transport header; the region starts 8 bytes into the ICMP message (an even offset).
        let quoted = embedded.l3Offset
        let quotedCount = min(embedded.end, embedded.l4Offset &+ 20) &- quoted
        let before = InternetChecksum.fold(InternetChecksum.sum(frame.span, from: quoted, count: quotedCount))
        rewriteEmbedded(
            frame: &frame, source: innerSource, sourcePort: innerSourcePort, destination: innerDestination,
            destinationPort: innerDestinationPort, seqAdjust: seqAdjust)
        let after = InternetChecksum.sum(frame.span, from: quoted, count: quotedCount)
        rewriteOuterForICMP(
            frame: &frame, source: outerSource, destination: outerDestination,
            messageDelta: UInt64(~before) &+ after)
        guard EthernetHeader.setAddresses(&frame, destination: egress.destinationMAC, source: egress.sourceMAC) else {
            return .drop(.truncated)
        }
        counters.count(.icmpTranslated)
        return .transmit(egress.side)
    }

    /// Rewrites the quoted packet's addresses, ports and TCP sequence number.
    @inlinable
    mutating func rewriteEmbedded(
        frame: inout MutableSpan<UInt8>, source: IPAddress, sourcePort: UInt16, destination: IPAddress,
        destinationPort: UInt16, seqAdjust: UInt32
    ) {
        let l3 = embedded.l3Offset
        let l4 = embedded.l4Offset
        let end = embedded.end
        let isTCP = embedded.l4Protocol == 6
        // The quoted L4 checksum, when quoted at all, follows the same incremental rules.
        let checksumOffset = l4 + (isTCP ? 16 : 6)
        let haveChecksum = checksumOffset + 2 <= end
        var l4Checksum: UInt16 = haveChecksum ? frame.u16(checksumOffset) : 0
        let updateL4 = haveChecksum && (isTCP || embedded.isV6 || l4Checksum != 0)
        if updateL4 {
            l4Checksum = InternetChecksum.update(l4Checksum, oldAddress: embedded.source, newAddress: source)
            l4Checksum = InternetChecksum.update(l4Checksum, oldAddress: embedded.destination, newAddress: destination)
            l4Checksum = InternetChecksum.update(l4Checksum, old: embedded.sourcePort, new: sourcePort)
            l4Checksum = InternetChecksum.update(l4Checksum, old: embedded.destinationPort, new: destinationPort)
        }
        if isTCP && embedded.hasTCPSequence && seqAdjust != 0 {
            let old = frame.u32(l4 + 4)
            let new = old &+ seqAdjust  // wraps: sequence space is modulo 2^32
            frame.set32(new, at: l4 + 4)
            if updateL4 { l4Checksum = InternetChecksum.update(l4Checksum, old32: old, new32: new) }
        }
        if updateL4 {
            if !isTCP && l4Checksum == 0 { l4Checksum = 0xFFFF }
            frame.set16(l4Checksum, at: checksumOffset)
        }
        frame.set16(sourcePort, at: l4)
        frame.set16(destinationPort, at: l4 + 2)
        if embedded.isV6 {
            frame.setAddress(source, at: l3 + 8)
            frame.setAddress(destination, at: l3 + 24)
        } else {
            frame.setAddress(source, at: l3 + 12)
            frame.setAddress(destination, at: l3 + 16)
            // The quoted IPv4 header is complete (parseICMPError checked), so recompute its checksum.
            frame.set16(0, at: l3 + 10)
            let sum = InternetChecksum.sum(frame.span, from: l3, count: embedded.ipHeaderLength)
            frame.set16(InternetChecksum.finish(sum), at: l3 + 10)
        }
    }

    /// Rewrites the outer addresses, decrements the TTL, updates the ICMP checksum (verified before) by
    /// `messageDelta` (the quoted headers' change, unfolded) and, for ICMPv6, the pseudo-header's
    /// addresses, and recomputes the outer IPv4 header checksum.
    @inlinable
    mutating func rewriteOuterForICMP(
        frame: inout MutableSpan<UInt8>, source: IPAddress, destination: IPAddress, messageDelta: UInt64
    ) {
        let l3 = info.l3Offset
        let l4 = info.l4Offset
        if configuration.decrementTTL {
            frame.set8(frame.u8(info.hopLimitOffset) &- 1, at: info.hopLimitOffset)
        }
        var delta = messageDelta
        if info.isV6 {
            delta &+=
                InternetChecksum.delta(from: info.source, to: source)
                &+ InternetChecksum.delta(from: info.destination, to: destination)
            frame.setAddress(source, at: l3 + 8)
            frame.setAddress(destination, at: l3 + 24)
        } else {
            frame.setAddress(source, at: l3 + 12)
            frame.setAddress(destination, at: l3 + 16)
            frame.set16(0, at: l3 + 10)
            let header = InternetChecksum.sum(frame.span, from: l3, count: info.ipHeaderLength)
            frame.set16(InternetChecksum.finish(header), at: l3 + 10)
        }
        frame.set16(InternetChecksum.update(frame.u16(l4 + 2), delta: delta), at: l4 + 2)
    }
}
