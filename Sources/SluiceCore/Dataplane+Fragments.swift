// Forwarding IP fragments (docs/protocol.md §3 "Fragments"). Only a datagram's first fragment carries
// the ports that find its connection, and the NIC may put the later ones on other workers' queues, so:
//
// - a first fragment goes through the connection path like a whole packet (FULLNAT rewrite of
//   addresses and ports; the UDP or TCP checksum it carries covers the whole datagram, and the
//   incremental update is right for the whole datagram too), gets a new identification, and its
//   rewrite is recorded in the fragment table every worker shares (FragmentTable.swift);
// - a later fragment, on whichever worker, takes the rewrite its datagram's entry names: addresses
//   and identification, with the IPv4 header checksum updated incrementally (RFC 1624), the TTL or
//   hop limit decremented and the egress and MTU checked as for other packets. No ICMP error is sent
//   about it (RFC 1122 §3.2.2 forbids one about a fragment other than the first in IPv4; IPv6 does
//   the same here): a fragment too big for the egress or out of hops is dropped and counted;
// - a later fragment whose datagram has no entry yet waits in the worker's hold (FragmentHold.swift)
//   and is released through the output queue once the entry appears, or dropped after the hold time.
//
// A TCP first fragment is refused when translating it could change its length or hold it back (a TOA
// option or PROXY header still to insert, a SYN-proxied connection): its later fragments, rewritten
// independently, could not follow (`drop_fragment_rewrite_unsupported`).
//
// Sluice does not fragment what it forwards, and never reassembles: the real server or the client does.

import SluicePacket

extension Dataplane {
    /// A fragment, parsed into `info`: the first goes through the connection path and records its
    /// rewrite; a later one takes the rewrite its first fragment recorded, or waits in the hold.
    /// Counts its own drop.
    @usableFromInline
    mutating func processFragment(
        frame: inout MutableSpan<UInt8>, length: inout Int, now: UInt64, network: borrowing NetworkView
    ) -> Verdict {
        let verdict =
            info.fragment == .first
            ? forwardFirstFragment(frame: &frame, length: &length, now: now, network: network)
            : receiveLaterFragment(frame: &frame, length: &length, now: now, network: network)
        if case .drop(let reason) = verdict { counters.count(reason) }
        return verdict
    }

    /// Translates a first fragment with its connection and records what its datagram's later
    /// fragments must get.
    mutating func forwardFirstFragment(
        frame: inout MutableSpan<UInt8>, length: inout Int, now: UInt64, network: borrowing NetworkView
    ) -> Verdict {
        let flow = FlowKey(
            source: info.source, destination: info.destination, sourcePort: info.sourcePort,
            destinationPort: info.destinationPort, transport: info.l4Protocol)
        let key = FragmentKey(info)
        // The connection's owner decides (its table knows whether the rewrite keeps the length).
        if let owner = foreignOwner(of: flow) { return .handOff(owner) }
        if info.l4Protocol == 6 && !firstFragmentTranslatesInPlace(flow) { return .drop(.fragmentRewriteUnsupported) }
        let verdict = processTransport(frame: &frame, length: &length, now: now, network: network)
        guard case .transmit = verdict, let hit = table.lookup(flow) else { return verdict }
        let c = table[hit.id]
        var rewrite =
            hit.direction == .inbound
            ? FragmentRewrite(
                source: c.local, destination: c.real, identification: 0, direction: .inbound,
                service: c.serviceIndex, server: c.realServerIndex)
            : FragmentRewrite(
                source: c.vip, destination: c.client, identification: 0, direction: .outbound,
                service: c.serviceIndex, server: c.realServerIndex)
        // An ICMP error or a RST sent in the fragment's place goes elsewhere: nothing was forwarded.
        let destination =
            info.isV6 ? frame.span.ipv6Address(info.l3Offset + 24) : frame.span.ipv4Address(info.l3Offset + 16)
        guard destination == rewrite.destination else { return verdict }
        // A duplicate of a first fragment already forwarded keeps the identification its datagram got.
        if let known = fragments.lookup(key, now: now), known.source == rewrite.source,
            known.destination == rewrite.destination
        {
            rewrite.identification = known.identification
        } else {
            rewrite.identification = fragments.nextIdentification()
        }
        if !info.isV6 { rewrite.identification &= 0xFFFF }
        guard fragments.record(key, rewrite, now: now) else { return .drop(.fragmentTableFull) }
        rewriteIdentification(frame: &frame, to: rewrite.identification)
        counters.count(.firstFragmentsForwarded)
        if fragmentHold.count > 0 { releaseHeldFragments(of: key, rewrite: rewrite, now: now, network: network) }
        return verdict
    }

    /// False when translating a TCP first fragment of `flow` could change its length or hold it:
    /// a SYN-proxied connection or one still to get a TOA option or PROXY header, or, for a new one,
    /// a service with SYN proxy or a client-address mode.
    func firstFragmentTranslatesInPlace(_ flow: FlowKey) -> Bool {
        if let hit = table.lookup(flow) {
            return table[hit.id].flags & (connectionSynProxy | connectionClientAddressPending) == 0
        }
        guard let service = services.service(address: flow.destination, port: flow.destinationPort, transport: 6)
        else { return true }
        let configuration = services.services[service].configuration
        return !configuration.synProxy && !services.synProxyAuto[service] && configuration.clientAddress == .none
    }

    /// A later fragment: forwarded with its datagram's rewrite, or held until the rewrite is known.
    mutating func receiveLaterFragment(
        frame: inout MutableSpan<UInt8>, length: inout Int, now: UInt64, network: borrowing NetworkView
    ) -> Verdict {
        let key = FragmentKey(info)
        if let rewrite = fragments.lookup(key, now: now) {
            return forwardLaterFragment(frame: &frame, length: &length, rewrite: rewrite, now: now, network: network)
        }
        // Only a fragment to one of our addresses can have a first fragment of ours to wait for.
        guard services.isLocalAddress(info.destination) || services.isVirtualAddress(info.destination) else {
            return .drop(.noService)
        }
        guard fragmentHold.hold(frame.span, length: length, side: arrivalSide, key: key, now: now) else {
            return .drop(.fragmentHoldFull)
        }
        return .drop(.fragmentHeld)
    }

    /// Rewrites the later fragment described by `info` with its datagram's rewrite and finds its egress.
    mutating func forwardLaterFragment(
        frame: inout MutableSpan<UInt8>, length: inout Int, rewrite: FragmentRewrite, now: UInt64,
        network: borrowing NetworkView
    ) -> Verdict {
        if arrivedOnWrongSide(rewrite.direction) { return .drop(.wrongSide) }
        var egress = Egress()
        // Later fragments carry no ports: the rules see the protocol and source only (no port selector
        // matches a port-less query unless its range includes 0, as for the kernel's own fragments).
        let route = RouteQuery(source: rewrite.source, transport: info.l4Protocol)
        if let reason = resolveEgress(to: rewrite.destination, from: route, network: network, into: &egress) {
            return .drop(reason)
        }
        // Checked before the rewrite, as for other packets; no ICMP error (see the file comment).
        if info.ipEnd - info.l3Offset > egress.mtu { return .drop(.tooBig) }
        if configuration.decrementTTL && !decrementHopLimit(frame: &frame) { return .drop(.ttlExceeded) }
        let l3 = info.l3Offset
        if info.isV6 {
            frame.setAddress(rewrite.source, at: l3 + 8)
            frame.setAddress(rewrite.destination, at: l3 + 24)
        } else {
            var checksum = frame.u16(l3 + 10)
            checksum = InternetChecksum.update(checksum, oldAddress: info.source, newAddress: rewrite.source)
            checksum = InternetChecksum.update(checksum, oldAddress: info.destination, newAddress: rewrite.destination)
            frame.set16(checksum, at: l3 + 10)
            frame.setAddress(rewrite.source, at: l3 + 12)
            frame.setAddress(rewrite.destination, at: l3 + 16)
        }
        rewriteIdentification(frame: &frame, to: rewrite.identification)
        guard EthernetHeader.setAddresses(&frame, destination: egress.destinationMAC, source: egress.sourceMAC) else {
            return .drop(.truncated)
        }
        let inbound = rewrite.direction == .inbound
        counters.count(inbound ? .forwardedInbound : .forwardedOutbound)
        counters.count(.laterFragmentsForwarded)
        countServerTraffic(
            service: Int(rewrite.service), server: Int(rewrite.server),
            field: inbound ? Self.trafficInbound : Self.trafficOutbound, bytes: length)
        return .transmit(egress.side)
    }

    /// Decrements the TTL (IPv4, with an RFC 1624 update of the header checksum: the TTL shares a word
    /// with the protocol) or the hop limit. False, leaving the frame as it is, when it would reach 0.
    mutating func decrementHopLimit(frame: inout MutableSpan<UInt8>) -> Bool {
        let hopLimit = frame.u8(info.hopLimitOffset)
        guard hopLimit > 1 else { return false }
        frame.set8(hopLimit &- 1, at: info.hopLimitOffset)
        if !info.isV6 {
            let l3 = info.l3Offset
            let proto = UInt16(frame.u8(l3 + 9))
            let checksum = InternetChecksum.update(
                frame.u16(l3 + 10), old: UInt16(hopLimit) << 8 | proto, new: UInt16(hopLimit &- 1) << 8 | proto)
            frame.set16(checksum, at: l3 + 10)
        }
        return true
    }

    /// Writes the datagram's new identification: IPv4's 16 bits (header checksum updated), or the IPv6
    /// fragment header's 32 (no checksum covers them).
    mutating func rewriteIdentification(frame: inout MutableSpan<UInt8>, to identification: UInt32) {
        let l3 = info.l3Offset
        if info.isV6 {
            frame.set32(identification, at: info.fragmentHeaderOffset + 4)
        } else {
            let old = frame.u16(l3 + 4)
            let new = UInt16(truncatingIfNeeded: identification)
            frame.set16(new, at: l3 + 4)
            frame.set16(InternetChecksum.update(frame.u16(l3 + 10), old: old, new: new), at: l3 + 10)
        }
    }

    // MARK: - The hold

    /// Releases the held fragments of `key`'s datagram with `rewrite`, which this worker just recorded.
    mutating func releaseHeldFragments(
        of key: FragmentKey, rewrite: FragmentRewrite, now: UInt64, network: borrowing NetworkView
    ) {
        // The hold leaves `self` while its frames are rewritten by methods of `self` (no copy: its arrays move).
        var held = FragmentHold(capacity: 0)
        swap(&held, &fragmentHold)
        var index = held.count
        while index > 0 {
            index &-= 1
            if held.key(index) == key {
                _ = releaseHeldFragment(index, from: &held, rewrite: rewrite, now: now, network: network)
            }
        }
        swap(&held, &fragmentHold)
    }

    /// Looks up every held fragment's datagram again and releases those that have a rewrite now (their
    /// first fragment was translated by another worker, or this one while the output queue was full).
    mutating func retryHeldFragments(now: UInt64, network: borrowing NetworkView) {
        var held = FragmentHold(capacity: 0)
        swap(&held, &fragmentHold)
        var index = held.count
        while index > 0 {
            index &-= 1
            guard let rewrite = fragments.lookup(held.key(index), now: now) else { continue }
            _ = releaseHeldFragment(index, from: &held, rewrite: rewrite, now: now, network: network)
        }
        swap(&held, &fragmentHold)
    }

    /// Drops the held fragments that waited `FragmentHold.maximumHold` for their first fragment.
    mutating func expireHeldFragments(now: UInt64) {
        var index = fragmentHold.count
        while index > 0 {
            index &-= 1
            if now >= fragmentHold.arrival(index) &+ FragmentHold.maximumHold {
                fragmentHold.remove(index)
                counters.count(.fragmentHoldExpired)
            }
        }
    }

    /// Rewrites held fragment `index` and queues it for sending, or drops it (counted); either way it
    /// leaves the hold. Returns false, leaving it held, while the output queue has no room for it.
    mutating func releaseHeldFragment(
        _ index: Int, from held: inout FragmentHold, rewrite: FragmentRewrite, now: UInt64,
        network: borrowing NetworkView
    ) -> Bool {
        var length = held.length(index)
        guard output.hasRoom(for: length) else { return false }
        arrivalSide = held.side(index)
        var verdict = Verdict.drop(.truncated)
        do {
            var frame = held.frames[index].mutableSpan
            // It parsed when it arrived; parsed again, `info` describes it for the rewrite.
            if PacketParser.parse(frame.span, length: length, into: &info) == nil, info.fragment == .later {
                verdict = forwardLaterFragment(
                    frame: &frame, length: &length, rewrite: rewrite, now: now, network: network)
            }
        }
        switch verdict {
        case .transmit(let side):
            let bytes = held.frames[index]
            let queued = output.append(side: side, size: length) { slot in
                slot.copyBytes(from: bytes.span, sourceOffset: 0, to: 0, count: length)
                return length
            }
            counters.count(queued ? .fragmentsReleased : .generatedFramesDropped)
        case .drop(let reason):
            counters.count(reason)
        case .handOff:
            // Later fragments are forwarded wherever they arrive (the fragment table is shared).
            counters.count(.wrongWorker)
        }
        held.remove(index)
        return true
    }
}
