// SYNPROXY, established connections (docs/protocol.md §2 S5, pitfalls 2, 3, 7, 11, 12).
//
// Sequence numbers, acknowledgements and every SACK block are translated by FULLNAT's own code
// (Dataplane+Transport.swift) with `seqDelta` (δfn) and `ackDelta` (δsp). What SYNPROXY adds:
//
// - Window scaling. The RS leg carries the client's own shift, so client windows pass unchanged
//   unless the RS declined scaling (then they are unscaled here: win << wscale_client). RS windows
//   are rescaled from the RS's shift to ours: win_client = win_rs << wscale_rs >> wscale_vs,
//   clamped to 65535 (dpvs commit 9bcd301c). Never on a SYN or SYN-ACK (RFC 7323 §2.2).
// - Timestamps, when both legs use them: tsoff = TSval(RS SYN-ACK) − TSval(our SYN-ACK); RS
//   TSvals lose tsoff, client TSecrs gain it (netfilter `synproxy_tstamp_adjust`), so the client
//   sees our SYN-ACK's clock continue and the RS sees its own clock echoed. The client's TSvals are
//   mapped onto our clock and back exactly as in FULLNAT (`aux0`). When the RS declined
//   timestamps, the client's TS options are NOP-ed on the way in (pitfall 2).
// - RST validation (RFC 5961 §3, pitfall 11): a RST must carry the sequence number its receiver
//   acknowledged last (tracked per direction in `clientAck` / `serverAck`). Exact: forwarded and
//   the state machine closes the entry. Inside the receiver's largest possible window (65535 <<
//   its shift): forwarded, so the endpoint can apply RFC 5961 itself (challenge ACK), but the
//   state is kept and the entry only shortened to the CLOSE timeout — the challenge ACK that a
//   live endpoint sends refreshes it, while an endpoint that accepted the RST sends nothing more.
//   Outside the window: dropped (`rstOutOfWindow`). A blind attacker thus needs the exact number
//   to close an entry, not a 1-in-512 window guess.
// - ACK storm (pitfall 12): a pure ACK from the RS identical to the previous one (same ack, and the
//   same 16-bit fingerprint of seq, window and first SACK block) is counted; from the threshold-th
//   repeat on it is dropped, as alibaba does (dpvs forwards it untranslated, which cannot help).
//   Window and SACK are in the fingerprint so that duplicate ACKs of an honest SACK recovery, which
//   differ in their SACK blocks, are not mistaken for a storm.

import SluicePacket

extension Dataplane {
    /// RS → client on an established SYN-proxied connection.
    @inlinable
    mutating func synProxyOutbound(
        _ id: ConnectionID, frame: inout MutableSpan<UInt8>, length: inout Int, now: UInt64,
        network: borrowing NetworkView
    ) -> Verdict {
        let c = table[id]
        let l4 = info.l4Offset
        let flags = info.tcpFlags
        let seq = frame.u32(l4 + 4)
        if flags & tcpRST != 0 {
            let shift = c.flags & connectionClientScaled != 0 ? UInt32(c.synProxyNibbles & 0x0F) : 0
            let offset = seq &- c.clientAck  // wraps: distance into the client's window
            if offset != 0 {
                guard offset < UInt32(65535) &<< shift else { return .drop(.rstOutOfWindow) }
                return synProxyForwardInWindowRST(
                    id, outbound: true, frame: &frame, length: &length, now: now, network: network)
            }
            return translateOutbound(id, frame: &frame, length: &length, now: now, network: network)
        }
        // While the client address is pending, `serverAck` and `repeatFingerprint` belong to it.
        if flags & tcpACK != 0 && c.flags & connectionClientAddressPending == 0 {
            let ack = frame.u32(l4 + 8)
            let threshold = synProxy.configuration.ackStormThreshold
            if threshold > 0 && flags & (tcpSYN | tcpFIN) == 0 && info.payloadLength == 0 {
                let print = synProxyFingerprint(frame.span, sequence: seq)
                if ack == c.serverAck && print == c.repeatFingerprint {
                    let repeats = Int(c.synProxyNibbles &>> 4) &+ 1
                    if repeats >= threshold { return .drop(.ackStorm) }
                    table[id].synProxyNibbles = UInt8(truncatingIfNeeded: repeats) &<< 4 | c.synProxyNibbles & 0x0F
                } else {
                    table[id].repeatFingerprint = print
                    table[id].synProxyNibbles = c.synProxyNibbles & 0x0F
                }
            } else {
                table[id].synProxyNibbles = c.synProxyNibbles & 0x0F
            }
            // Wrap-aware "after" (RFC 9293 §3.4).
            if Int32(bitPattern: ack &- c.serverAck) > 0 { table[id].serverAck = ack }
        }
        return translateOutbound(id, frame: &frame, length: &length, now: now, network: network)
    }

    /// Client → RS on an established SYN-proxied connection.
    @inlinable
    mutating func synProxyInbound(
        _ id: ConnectionID, frame: inout MutableSpan<UInt8>, length: inout Int, now: UInt64,
        network: borrowing NetworkView
    ) -> Verdict {
        let c = table[id]
        let l4 = info.l4Offset
        let flags = info.tcpFlags
        if flags & tcpRST != 0 {
            let shift =
                c.flags & connectionServerScaled != 0
                ? UInt32((c.flags &>> connectionServerShift) & 0x0F) : 0
            let offset = (frame.u32(l4 + 4) &+ c.seqDelta) &- c.serverAck  // RS-leg space, wrapping
            if offset != 0 {
                guard offset < UInt32(65535) &<< shift else { return .drop(.rstOutOfWindow) }
                return synProxyForwardInWindowRST(
                    id, outbound: false, frame: &frame, length: &length, now: now, network: network)
            }
        } else if flags & tcpACK != 0 {
            let ack = frame.u32(l4 + 8) &- c.ackDelta  // in the RS's sequence space
            if Int32(bitPattern: ack &- c.clientAck) > 0 { table[id].clientAck = ack }
        }
        return translateInbound(id, frame: &frame, length: &length, now: now, network: network)
    }

    /// Forwards a RST that is inside the window but not exact, without letting it change the state
    /// (see the file comment). Only the parse result loses its RST bit; the frame keeps it.
    @inlinable
    mutating func synProxyForwardInWindowRST(
        _ id: ConnectionID, outbound: Bool, frame: inout MutableSpan<UInt8>, length: inout Int, now: UInt64,
        network: borrowing NetworkView
    ) -> Verdict {
        counters.count(.rstInWindow)
        info.tcpFlags &= ~tcpRST
        let verdict =
            outbound
            ? translateOutbound(id, frame: &frame, length: &length, now: now, network: network)
            : translateInbound(id, frame: &frame, length: &length, now: now, network: network)
        if case .transmit = verdict {
            let deadline = now &+ timeout(for: .close, service: Int(table[id].serviceIndex))
            if deadline < table[id].expiresAt(near: now) {
                table[id].expire(at: deadline)
                wheel.schedule(id, at: deadline)
            }
        }
        return verdict
    }

    /// 16 bits standing for a pure ACK's seq, window and first SACK block.
    @inlinable @inline(__always)
    func synProxyFingerprint(_ frame: Span<UInt8>, sequence: UInt32) -> UInt16 {
        var x = sequence ^ UInt32(frame.u16(info.l4Offset + 14)) &* 0x9E37_79B1
        let sack = info.tcpOptions.sackOffset
        if sack >= 0 && info.tcpOptions.sackBlockCount > 0 {
            let edges = frame.u32(sack) &+ frame.u32(sack + 4)
            x ^= edges &<< 8 | edges &>> 24
        }
        return UInt16(truncatingIfNeeded: x ^ x &>> 16)
    }

    /// Window and timestamp steps of a client → RS segment, after FULLNAT's rewrite.
    @inlinable
    mutating func synProxyAdjustInbound(_ c: Connection, frame: inout MutableSpan<UInt8>) {
        let l4 = info.l4Offset
        let timestampOffset = info.tcpOptions.timestampOffset
        if timestampOffset >= 0 {
            if c.flags & connectionTimestampTranslation != 0 {
                rewriteSequence(frame: &frame, at: timestampOffset + 4, delta: c.aux1)
            } else if c.flags & connectionTimestampStrip != 0 {
                TCPOptions.nopOut(&frame, offset: timestampOffset - 2, length: 10, tcpOffset: l4)
            }
        }
        let scaling = c.flags & (connectionClientScaled | connectionServerScaled)
        if scaling == connectionClientScaled && info.tcpFlags & tcpSYN == 0 {
            // The RS declined scaling: it reads the client's windows unscaled.
            let window = UInt32(frame.u16(l4 + 14)) &<< UInt32(c.synProxyNibbles & 0x0F)
            let scaled = UInt16(clamping: window)
            if scaled != frame.u16(l4 + 14) {
                frame.rewrite16(scaled, at: l4 + 14, checksumAt: l4 + 16, dataStart: l4)
            }
        }
    }

    /// Window and timestamp steps of an RS → client segment, after FULLNAT's rewrite.
    @inlinable
    mutating func synProxyAdjustOutbound(_ c: Connection, frame: inout MutableSpan<UInt8>) {
        let l4 = info.l4Offset
        let timestampOffset = info.tcpOptions.timestampOffset
        if timestampOffset >= 0 && c.flags & connectionTimestampTranslation != 0 {
            rewriteSequence(frame: &frame, at: timestampOffset, delta: 0 &- c.aux1)
        }
        if c.flags & connectionClientScaled != 0 && info.tcpFlags & tcpSYN == 0 {
            let serverShift =
                c.flags & connectionServerScaled != 0 ? UInt32((c.flags &>> connectionServerShift) & 0x0F) : 0
            let proxyShift = UInt32((c.flags &>> connectionProxyShift) & 0x0F)
            let old = frame.u16(l4 + 14)
            let bytes = UInt64(old) &<< UInt64(serverShift)
            let window = UInt16(clamping: bytes &>> UInt64(proxyShift))
            if window != old { frame.rewrite16(window, at: l4 + 14, checksumAt: l4 + 16, dataStart: l4) }
        }
    }
}
