// L3/L2 forwarding for rewritten frames: route lookup in the kernel's mirrored tables, MTU and
// TTL checks (answered with ICMP errors), and the Ethernet header. Sluice never guesses a MAC:
// an unresolved next hop drops the frame with a counter and asks the kernel to resolve it.

import SluicePacket

extension Dataplane {
    /// Resolves the egress for `destination`, or returns why it cannot be reached.
    /// - Parameters:
    ///   - query: the packet's source, protocol and ports as it leaves (what ip rules select by).
    ///   - flowHash: picks a multipath route's next hop (`pathHash(of:)` for a connection).
    @inlinable @inline(__always)
    mutating func resolveEgress(
        to destination: IPAddress, from query: @autoclosure () -> RouteQuery, flowHash: UInt32 = 0,
        network: borrowing NetworkView, into egress: inout Egress
    ) -> DropReason? {
        // Only single-path decisions are cached: a multipath route's next hop depends on the flow. A hit
        // is answered in line, the lookups run out of line. The cache keys on what the rules look at;
        // with rules that look at the destination alone (the kernel's defaults) that is nothing, and the
        // query is neither built (hence the autoclosure) nor compared: every established frame's path.
        if !network.selectsBeyondDestination {
            if egressCache.lookup(destination, generation: network.generation, into: &egress) { return nil }
            return resolveEgressUncached(
                to: destination, query: .destinationOnly, flowHash: flowHash, network: network, into: &egress)
        }
        let key = network.relevantPart(of: query())
        if egressCache.lookup(destination, query: key, generation: network.generation, into: &egress) { return nil }
        return resolveEgressUncached(to: destination, query: key, flowHash: flowHash, network: network, into: &egress)
    }

    /// `resolveEgress` past the cache.
    @usableFromInline @inline(never)
    mutating func resolveEgressUncached(
        to destination: IPAddress, query: RouteQuery, flowHash: UInt32, network: borrowing NetworkView,
        into egress: inout Egress
    ) -> DropReason? {
        guard let hop = network.nextHop(to: destination, query: query, flowHash: flowHash) else { return .noRoute }
        if hop.interfaceIndex == internalInterface {
            egress.side = .internal
        } else if hop.interfaceIndex == externalInterface {
            egress.side = .external
        } else {
            return .routeNotOnWorker
        }
        guard let interface = network.interface(hop.interfaceIndex) else { return .noRoute }
        guard let mac = network.neighbour(hop.address, on: hop.interfaceIndex) else {
            resolutions.add(hop.address, interfaceIndex: hop.interfaceIndex)
            counters.count(.neighbourResolutionRequested)
            return .neighbourUnresolved
        }
        egress.destinationMAC = mac.value
        egress.sourceMAC = interface.mac.value
        egress.mtu = hop.mtu > 0 ? hop.mtu : interface.mtu
        if !hop.isMultipath {
            egressCache.store(destination, query: query, generation: network.generation, egress: egress)
        }
        return nil
    }

    /// The flow hash that picks a multipath route's next hop for a connection's frames: its table
    /// slot, spread by a Fibonacci multiply (the high bits). Stable for the connection, different for
    /// connections, and one multiplication per frame; which path a connection takes matters to nobody
    /// but the load, so it need not be a hash of the tuple.
    @inlinable
    static func pathHash(of id: ConnectionID) -> UInt32 {
        UInt32(truncatingIfNeeded: (UInt64(truncatingIfNeeded: id) &* 0x9E37_79B9_7F4A_7C15) >> 32)
    }

    /// Checks the frame against the egress MTU and the TTL before it is rewritten, so that an ICMP
    /// error can quote the packet exactly as its sender sent it. Returns nil when the frame may
    /// be forwarded (and then decrements the TTL); otherwise the verdict for the frame, which has
    /// been turned into an ICMP error from `errorSource` when one is due.
    /// - Parameter headerDelta: with it, an IPv4 TTL change is added there (an RFC 1624 difference,
    ///   `InternetChecksum.delta`) for the caller's one header checksum update, instead of updating
    ///   the checksum here.
    @inlinable @inline(__always)
    mutating func checkMTUAndTTL(
        frame: inout MutableSpan<UInt8>, length: inout Int, egress: Egress, errorSource: IPAddress, now: UInt64,
        network: borrowing NetworkView, headerDelta: inout UInt64
    ) -> Verdict? {
        // The common case in line: fits, and the TTL (when decremented) stays above 1.
        let l3 = info.l3Offset
        if info.ipEnd &- l3 > egress.mtu {
            return answerTooBig(
                frame: &frame, length: &length, egress: egress, errorSource: errorSource, now: now, network: network)
        }
        guard configuration.decrementTTL else { return nil }
        let hopLimit = frame.u8(info.hopLimitOffset)
        if hopLimit <= 1 {
            return answerTTLExceeded(
                frame: &frame, length: &length, errorSource: errorSource, now: now, network: network)
        }
        frame.set8(hopLimit &- 1, at: info.hopLimitOffset)
        if !info.isV6 {
            // TTL shares a 16-bit word with the protocol byte (RFC 791): one less in its high byte.
            headerDelta &+= UInt64(~(UInt16(hopLimit) << 8)) &+ UInt64(UInt16(hopLimit &- 1) << 8)
        }
        return nil
    }

    /// `checkMTUAndTTL` for a frame larger than the egress MTU.
    @usableFromInline @inline(never)
    mutating func answerTooBig(
        frame: inout MutableSpan<UInt8>, length: inout Int, egress: Egress, errorSource: IPAddress, now: UInt64,
        network: borrowing NetworkView
    ) -> Verdict {
        if !info.isV6 && frame.u16(info.l3Offset + 6) & 0x4000 == 0 {
            // No DF: a router would fragment; Sluice does not (docs/protocol.md pitfall 20), so the
            // packet is dropped and counted.
            return .drop(.tooBig)
        }
        counters.count(.tooBig)
        let kind: ICMPErrorKind =
            info.isV6
            ? .packetTooBig(mtu: UInt32(egress.mtu)) : .fragmentationNeeded(mtu: UInt16(clamping: egress.mtu))
        return answerWithICMPError(
            frame: &frame, length: &length, kind: kind, from: errorSource, now: now, network: network)
    }

    /// `checkMTUAndTTL` for a frame whose TTL / hop limit runs out here.
    @usableFromInline @inline(never)
    mutating func answerTTLExceeded(
        frame: inout MutableSpan<UInt8>, length: inout Int, errorSource: IPAddress, now: UInt64,
        network: borrowing NetworkView
    ) -> Verdict {
        counters.count(.ttlExceeded)
        return answerWithICMPError(
            frame: &frame, length: &length, kind: .timeExceeded, from: errorSource, now: now, network: network)
    }

    /// Turns the frame into an ICMP error towards its original sender and routes it back.
    @inlinable
    mutating func answerWithICMPError(
        frame: inout MutableSpan<UInt8>, length: inout Int, kind: ICMPErrorKind, from source: IPAddress,
        now: UInt64, network: borrowing NetworkView
    ) -> Verdict {
        guard icmpBudget.take(now: now) else { return .drop(.icmpRateLimited) }
        let originalSource = info.source
        guard ICMPError.build(&frame, length: &length, info: info, kind: kind, from: source) else {
            return .drop(.noRoom)
        }
        var egress = Egress()
        if let reason = resolveEgress(to: originalSource, from: .icmp(from: source), network: network, into: &egress) {
            return .drop(reason)
        }
        guard EthernetHeader.setAddresses(&frame, destination: egress.destinationMAC, source: egress.sourceMAC) else {
            return .drop(.truncated)
        }
        counters.count(.icmpGenerated)
        return .transmit(egress.side)
    }
}
