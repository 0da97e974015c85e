// The stateless SYN-ACK of SYNPROXY (docs/protocol.md §2 S1): the client's SYN is turned around in its own
// buffer, no state is created, and the cookie (SluiceCore.SynCookie) is the sequence number.
//
// The answer is a new packet built by the gateway, not a forwarded one, so its headers are written
// whole and both checksums are computed from scratch (nothing of the client's is left to protect by an
// incremental update):
// - Ethernet: source and destination swapped; a VLAN tag stays as it was.
// - IPv4: a plain 20-byte header. IP options are not reflected: record-route/timestamp options are
//   meaningless in a reply, and source routes are not honoured (RFC 7126 §4.3/4.4 recommends dropping
//   LSRR/SSRR). TOS 0, identification 0 with DF (an atomic datagram, RFC 6864 §4.1), TTL from the
//   parameters.
// - IPv6: a plain 40-byte header; extension headers are removed (a routing header is not reversed,
//   RFC 5095 deprecated type 0 and the parser refuses segments-left > 0). Traffic class 0, flow label
//   0 ("unlabelled", allowed by RFC 6437 §2), hop limit from the parameters.
// - TCP (RFC 9293 §3.5): ports swapped, seq = cookie, ack = client ISN + 1 (mod 2^32), flags SYN|ACK
//   only. No ECE: the client's ECN setup (ECE|CWR) is declined, so the connection runs without ECN
//   (RFC 3168 §6.1.1). Window: the parameter or the client's own SYN window, unscaled (RFC 7323 §2.2).
//   Any SYN payload is dropped: data on a SYN is not acknowledged by the SYN-ACK, so the client
//   retransmits it after the handshake (RFC 9293 §3.10.7.2; Linux does the same for a cookie SYN).
// - Options, in Linux's layout (tcp_options_write), always a multiple of 4 so no EOL padding:
//     MSS (4) · [SACK-perm + TS (12) | NOP NOP TS (12)] · [NOP WS (4)] · [NOP NOP SACK-perm (4)]
//   MSS = min(client MSS, or 536 / 1220 when absent (RFC 9293 §3.7.1, RFC 8200 §8.3), parameter).
//   Window scale only if the SYN had it (RFC 7323 §2.2), SACK-permitted only if the SYN had it
//   (RFC 2018 §2), timestamps only if the SYN had them (RFC 7323 §3.2), with TSecr = the client's
//   TSval. At most 20 option bytes: a 40-byte TCP header.
//
// The function validates `info` against the frame before writing anything and rescans the options
// itself, so a stale or inconsistent `info` yields false, never a trap or a half-written frame.

/// Turns a client SYN into the SYNPROXY SYN-ACK, in place.
public enum SynAck {
    /// MSS assumed for an IPv4 peer that sent no MSS option (RFC 9293 §3.7.1: 576 − 40).
    public static let defaultIPv4MSS: UInt16 = 536
    /// MSS assumed for an IPv6 peer that sent no MSS option (RFC 9293 §3.7.1: 1280 − 60).
    public static let defaultIPv6MSS: UInt16 = 1220

    /// Rewrites the client SYN described by `info` into the stateless SYN-ACK carrying `cookie`.
    /// - Parameters:
    ///   - frame: the frame buffer; the answer may be up to 4 bytes longer than the SYN's headers
    ///     (an MSS option the SYN lacked), so it must have that room.
    ///   - length: the received frame length on input; the answer's length on success (any SYN
    ///     payload and Ethernet padding are gone).
    ///   - info: the parse result of the SYN (`PacketParser.parse`).
    ///   - cookie: the server ISN (`SynCookie.make` for this SYN).
    ///   - parameters: the gateway's options, TTL and window.
    /// - Returns: false, leaving the frame untouched, when `info` does not describe a pure SYN (SYN
    ///   without ACK, RST or FIN) that lies inside `length` bytes, its options are malformed, or the
    ///   buffer is too small for the answer.
    @inlinable
    public static func answer(
        _ frame: inout MutableSpan<UInt8>, length: inout Int, info: PacketInfo, cookie: UInt32,
        parameters: SynAckParameters
    ) -> Bool {
        let v6 = info.isV6
        let l3 = info.l3Offset
        let end = length
        // Every bound is checked against an already-bounded value, so no sum can overflow.
        guard info.l4Protocol == 6, end >= 0, end <= frame.count else { return false }
        guard l3 >= EthernetHeader.length, l3 <= end else { return false }
        guard info.ipHeaderLength >= (v6 ? 40 : 20), info.ipHeaderLength <= end - l3 else { return false }
        let l4 = info.l4Offset
        guard l4 == l3 + info.ipHeaderLength else { return false }
        let tcpLength = info.tcpHeaderLength
        guard tcpLength >= 20, tcpLength <= 60, tcpLength <= end - l4 else { return false }
        guard info.ipEnd >= l4 + tcpLength, info.ipEnd <= end else { return false }
        let etherType = v6 ? EthernetHeader.etherTypeIPv6 : EthernetHeader.etherTypeIPv4
        guard frame.u16(l3 - 2) == etherType, frame[l3] &>> 4 == (v6 ? 6 : 4) else { return false }
        guard Int(frame[l4 + 12] &>> 4) &* 4 == tcpLength else { return false }
        let flags = frame[l4 + 13]
        let kinds = TCPFlag.syn | TCPFlag.ack | TCPFlag.rst | TCPFlag.fin
        guard flags & kinds == TCPFlag.syn else { return false }
        var options = TCPOptionSummary()
        guard TCPOptions.scan(frame.span, tcpOffset: l4, headerLength: tcpLength, into: &options) else {
            return false
        }

        // Everything the answer needs from the SYN is read before the first write: the new headers
        // overlap the old ones whenever IP options or extension headers are dropped.
        let sourceOffset = l3 + (v6 ? 8 : 12)
        let destinationOffset = l3 + (v6 ? 24 : 16)
        let client = v6 ? frame.ipv6Address(sourceOffset) : frame.ipv4Address(sourceOffset)
        let service = v6 ? frame.ipv6Address(destinationOffset) : frame.ipv4Address(destinationOffset)
        let clientPort = frame.u16(l4)
        let servicePort = frame.u16(l4 + 2)
        let clientISN = frame.u32(l4 + 4)
        let clientWindow = frame.u16(l4 + 14)
        var mss = v6 ? defaultIPv6MSS : defaultIPv4MSS
        if options.mssOffset >= 0 { mss = frame.u16(options.mssOffset) }
        mss = min(mss, parameters.mss)
        let windowScale = options.windowScaleOffset >= 0
        let sack = parameters.sack && options.sackPermittedOffset >= 0
        let timestamps = parameters.timestamps && options.timestampOffset >= 0
        let clientTSval = timestamps ? frame.u32(options.timestampOffset) : 0

        let ipLength = v6 ? 40 : 20
        let optionLength = 4 + (timestamps ? 12 : 0) + (windowScale ? 4 : 0) + (sack && !timestamps ? 4 : 0)
        let newTCPLength = 20 + optionLength
        let t = l3 + ipLength
        let newEnd = t + newTCPLength
        guard newEnd <= frame.count else { return false }

        // Nothing is written before this, so a refusal leaves the frame as it was (l3 >= 14 rules it out).
        guard EthernetHeader.swapAddresses(&frame) else { return false }
        if v6 {
            // Version 6, traffic class 0, flow label 0.
            frame.set32(0x6000_0000, at: l3)
            frame.set16(UInt16(newTCPLength), at: l3 + 4)
            frame.set8(6, at: l3 + 6)
            frame.set8(parameters.ttl, at: l3 + 7)
            frame.setAddress(service, at: l3 + 8)
            frame.setAddress(client, at: l3 + 24)
        } else {
            frame.set8(0x45, at: l3)
            frame.set8(0, at: l3 + 1)
            frame.set16(UInt16(ipLength + newTCPLength), at: l3 + 2)
            frame.set16(0, at: l3 + 4)
            frame.set16(0x4000, at: l3 + 6)
            frame.set8(parameters.ttl, at: l3 + 8)
            frame.set8(6, at: l3 + 9)
            frame.set16(0, at: l3 + 10)
            frame.setAddress(service, at: l3 + 12)
            frame.setAddress(client, at: l3 + 16)
            frame.set16(InternetChecksum.finish(InternetChecksum.sum(frame.span, from: l3, count: 20)), at: l3 + 10)
        }

        frame.set16(servicePort, at: t)
        frame.set16(clientPort, at: t + 2)
        frame.set32(cookie, at: t + 4)
        // The SYN occupies one sequence number; wraps mod 2^32.
        frame.set32(clientISN &+ 1, at: t + 8)
        frame.set8(UInt8(truncatingIfNeeded: newTCPLength / 4) &<< 4, at: t + 12)
        frame.set8(TCPFlag.syn | TCPFlag.ack, at: t + 13)
        frame.set16(parameters.window ?? clientWindow, at: t + 14)
        frame.set32(0, at: t + 16)
        writeOptions(
            &frame, at: t + 20, mss: mss, timestamps: timestamps, tsval: parameters.tsval, tsecr: clientTSval,
            windowScale: windowScale ? min(parameters.windowScale, 14) : nil, sack: sack)

        let pseudo = InternetChecksum.pseudoHeader(
            source: service, destination: client, protocol: 6, length: newTCPLength)
        let sum = InternetChecksum.sum(frame.span, from: t, count: newTCPLength, into: pseudo)
        frame.set16(InternetChecksum.finish(sum), at: t + 16)
        length = newEnd
        return true
    }

    /// Writes the SYN-ACK options at `o` in Linux's order; the caller sized the header for them.
    @inlinable
    static func writeOptions(
        _ frame: inout MutableSpan<UInt8>, at o: Int, mss: UInt16, timestamps: Bool, tsval: UInt32, tsecr: UInt32,
        windowScale: UInt8?, sack: Bool
    ) {
        var o = o
        frame.set8(TCPOptions.maximumSegmentSize, at: o)
        frame.set8(4, at: o + 1)
        frame.set16(mss, at: o + 2)
        o += 4
        if timestamps {
            // SACK-permitted fills the two bytes that would otherwise be NOP padding before TS.
            if sack {
                frame.set8(TCPOptions.sackPermitted, at: o)
                frame.set8(2, at: o + 1)
            } else {
                frame.set8(TCPOptions.noOperation, at: o)
                frame.set8(TCPOptions.noOperation, at: o + 1)
            }
            frame.set8(TCPOptions.timestamps, at: o + 2)
            frame.set8(10, at: o + 3)
            frame.set32(tsval, at: o + 4)
            frame.set32(tsecr, at: o + 8)
            o += 12
        }
        if let windowScale {
            frame.set8(TCPOptions.noOperation, at: o)
            frame.set8(TCPOptions.windowScale, at: o + 1)
            frame.set8(3, at: o + 2)
            frame.set8(windowScale, at: o + 3)
            o += 4
        }
        if sack && !timestamps {
            frame.set8(TCPOptions.noOperation, at: o)
            frame.set8(TCPOptions.noOperation, at: o + 1)
            frame.set8(TCPOptions.sackPermitted, at: o + 2)
            frame.set8(2, at: o + 3)
        }
    }
}
