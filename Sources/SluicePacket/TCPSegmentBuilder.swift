// TCP segments the gateway originates itself (docs/protocol.md §2): the SYNPROXY SYN towards a real
// server, the RST that tells a client its real server refused, the RST answering a bad cookie.
// Nothing of a received packet is reused, so every header is written whole and both checksums are
// computed from scratch (no incremental update has anything to protect):
// - Ethernet: the given addresses, no VLAN tag (the egress is resolved by the data plane).
// - IPv4: 20 bytes, TOS 0, identification 0 with DF (atomic datagram, RFC 6864 §4.1), TTL given.
//   IPv6: 40 bytes, traffic class and flow label 0 (RFC 6437 §2 allows unlabelled), hop limit given.
// - TCP: no payload. Options only on a SYN (`Segment.mss` non-zero), in Linux's layout as for the
//   SYN-ACK (`SynAck.writeOptions`): MSS · [SACK-perm + TS | NOP NOP TS] · [NOP WS] · [NOP NOP
//   SACK-perm], so at most 20 option bytes.

/// Writes complete Ethernet/IP/TCP frames.
public enum TCPSegmentBuilder {
    /// Writes `segment` at the start of `frame`.
    /// - Returns: the frame length, or 0 (nothing written) when the addresses are of different
    ///   families or `frame` is too small.
    @inlinable
    public static func build(_ frame: inout MutableSpan<UInt8>, _ segment: Segment) -> Int {
        let v6 = segment.source.isV6
        guard segment.destination.isV6 == v6 else { return 0 }
        let l3 = EthernetHeader.length
        let ipLength = v6 ? 40 : 20
        let hasOptions = segment.mss != 0
        let optionLength =
            hasOptions
            ? 4 + (segment.timestamps ? 12 : 0) + (segment.windowScale != nil ? 4 : 0)
                + (segment.sackPermitted && !segment.timestamps ? 4 : 0) : 0
        let tcpLength = 20 + optionLength
        let l4 = l3 + ipLength
        let end = l4 + tcpLength
        guard end <= frame.count else { return 0 }

        guard EthernetHeader.setAddresses(&frame, destination: segment.destinationMAC, source: segment.sourceMAC)
        else { return 0 }
        frame.set16(v6 ? EthernetHeader.etherTypeIPv6 : EthernetHeader.etherTypeIPv4, at: 12)
        if v6 {
            frame.set32(0x6000_0000, at: l3)
            frame.set16(UInt16(tcpLength), at: l3 + 4)
            frame.set8(6, at: l3 + 6)
            frame.set8(segment.ttl, at: l3 + 7)
            frame.setAddress(segment.source, at: l3 + 8)
            frame.setAddress(segment.destination, at: l3 + 24)
        } else {
            frame.set8(0x45, at: l3)
            frame.set8(0, at: l3 + 1)
            frame.set16(UInt16(ipLength + tcpLength), at: l3 + 2)
            frame.set16(0, at: l3 + 4)
            frame.set16(0x4000, at: l3 + 6)
            frame.set8(segment.ttl, at: l3 + 8)
            frame.set8(6, at: l3 + 9)
            frame.set16(0, at: l3 + 10)
            frame.setAddress(segment.source, at: l3 + 12)
            frame.setAddress(segment.destination, at: l3 + 16)
            frame.set16(InternetChecksum.finish(InternetChecksum.sum(frame.span, from: l3, count: 20)), at: l3 + 10)
        }

        frame.set16(segment.sourcePort, at: l4)
        frame.set16(segment.destinationPort, at: l4 + 2)
        frame.set32(segment.sequence, at: l4 + 4)
        frame.set32(segment.acknowledgement, at: l4 + 8)
        frame.set8(UInt8(truncatingIfNeeded: tcpLength / 4) &<< 4, at: l4 + 12)
        frame.set8(segment.flags, at: l4 + 13)
        frame.set16(segment.window, at: l4 + 14)
        frame.set32(0, at: l4 + 16)
        if hasOptions {
            var windowScale: UInt8? = nil
            if let shift = segment.windowScale { windowScale = min(shift, 14) }
            SynAck.writeOptions(
                &frame, at: l4 + 20, mss: segment.mss, timestamps: segment.timestamps,
                tsval: segment.timestampValue, tsecr: segment.timestampEcho,
                windowScale: windowScale, sack: segment.sackPermitted)
        }
        let pseudo = InternetChecksum.pseudoHeader(
            source: segment.source, destination: segment.destination, protocol: 6, length: tcpLength)
        let sum = InternetChecksum.sum(frame.span, from: l4, count: tcpLength, into: pseudo)
        frame.set16(InternetChecksum.finish(sum), at: l4 + 16)
        return end
    }
}
