// Inserting a TOA option into a TCP segment in place (docs/protocol.md §6, §8 pitfalls 14–16; dpvs
// tcp_in_add_toa / tcp_in_prune_options).
//
// Layout: the option goes right after the fixed 20-byte TCP header; the existing options and the
// payload move down by its length (8 or 20). The frame grows into the buffer's tailroom; any Ethernet
// padding after the IP datagram is dropped.
//
// Room: the TCP header may not exceed 60 bytes, and the new IP datagram may not exceed `mtu` (nor the
// buffer, nor 65535). When it would, options are given up in this order, each step tried only if the
// previous one was not enough, and the surviving options are repacked in their original order and
// padded with EOL/zero bytes to a multiple of 4:
//   1. NOP and EOL padding, and every option of the TOA kind the segment already carries;
//   2. SACK blocks, the last one first (RFC 2018 §4: the first block reports the most recent data, so
//      it is the most valuable), then the SACK option itself;
//   3. every remaining option except MSS, window scale, SACK-permitted and timestamps.
// MSS, WS, SACK-permitted and timestamps are never removed (TS carries PAWS and RTT state; the others
// only matter on SYNs, where Sluice does not insert TOA, but are kept as the segment's own). If nothing
// fits, the result is `.noRoom` and the frame is unchanged: never a half-written header.
//
// A client-sent option of the TOA kind is always neutralised (pitfall 14: toa.ko takes the first one,
// so a client could otherwise spoof its address): replaced with NOPs when there is room, removed when
// pruning. Ours is first anyway.
//
// Checksums are updated incrementally (RFC 1624; docs/design.md §4.6), never recomputed over the payload:
// the payload moves by a multiple of 4 bytes, so its contribution to the TCP checksum is unchanged, and
// only the header words that changed are folded in: the data-offset word, the old and new option bytes,
// and the pseudo-header length. A corrupted payload therefore stays detectably corrupted. The IPv4 total
// length goes through the header checksum the same way; IPv6 has none.

extension TOA {
    /// Inserts a TOA option carrying `port` and `address` into the TCP segment described by `info`.
    ///
    /// - Parameters:
    ///   - frame: the buffer holding the frame; its capacity beyond `length` is the tailroom the
    ///     frame may grow into.
    ///   - length: the frame length; set to the new end of the IP datagram on success.
    ///   - info: the parse of this frame (a TCP segment); on success its `ipEnd`, `tcpHeaderLength`,
    ///     `payloadOffset` and `tcpOptions` are updated to the new layout.
    ///   - kind: the option kind (254 by default).
    ///   - mtu: the largest IP datagram the next hop takes.
    /// - Returns: `.inserted`, `.pruned` (inserted after removing other options), or `.noRoom` /
    ///   `.malformed` with the frame and `info` unchanged.
    @inlinable
    public static func insert(
        into frame: inout MutableSpan<UInt8>, length: inout Int, info: inout PacketInfo, port: UInt16,
        address: IPAddress, kind: UInt8 = defaultKind, mtu: Int
    ) -> TOAInsertResult {
        let l3 = info.l3Offset
        let l4 = info.l4Offset
        let headerLength = info.tcpHeaderLength
        let ipEnd = info.ipEnd
        // 0 <= l3 <= ipEnd <= length <= frame.count bounds every offset checked after it, so that no sum
        // or difference can wrap, whatever `info` holds.
        guard info.l4Protocol == 6, length <= frame.count, ipEnd <= length, l3 >= 0, l3 <= ipEnd,
            l4 >= l3 &+ 20, headerLength >= 20, headerLength <= 60, headerLength & 3 == 0,
            l4 <= ipEnd &- headerLength
        else { return .malformed }
        guard Int(frame[l4 &+ 12] &>> 4) &* 4 == headerLength else { return .malformed }
        let ipLimit: Int
        if info.isV6 {
            guard l4 >= l3 &+ 40, Int(frame.u16(l3 &+ 4)) == ipEnd &- l3 &- 40 else { return .malformed }
            ipLimit = l3 &+ 40 &+ 65535
        } else {
            guard Int(frame.u16(l3 &+ 2)) == ipEnd &- l3 else { return .malformed }
            ipLimit = l3 &+ 65535
        }
        var scanned = TCPOptionSummary()
        guard TCPOptions.scan(frame.span, tcpOffset: l4, headerLength: headerLength, into: &scanned) else {
            return .malformed
        }

        let n = Self.length(for: address)
        let optionsStart = l4 &+ 20
        let oldOptions = headerLength &- 20
        // Clamped so that a nonsense MTU cannot overflow; anything above 65575 is limited by ipLimit.
        let limit = min(frame.count, l3 &+ min(max(mtu, 0), 70_000), ipLimit)
        // The most option bytes (besides ours) the new segment may carry.
        let room = min(40 &- n, limit &- (ipEnd &- oldOptions &+ n))

        // Step 0: everything fits as is. Otherwise find the least pruning that fits.
        var newOptions = oldOptions
        var keepBlocks = Int.max
        var dropOthers = false
        if oldOptions > room {
            let end = optionsStart &+ oldOptions
            var fits = false
            var kept = compactOptions(
                &frame, start: optionsStart, end: end, kind: kind, keepSACKBlocks: keepBlocks, dropOthers: false,
                write: false)
            fits = roundUp4(kept) <= room
            if !fits {
                keepBlocks = sackBlockCount(frame.span, start: optionsStart, end: end)
                while !fits && keepBlocks > 0 {
                    keepBlocks &-= 1
                    kept = compactOptions(
                        &frame, start: optionsStart, end: end, kind: kind, keepSACKBlocks: keepBlocks,
                        dropOthers: false, write: false)
                    fits = roundUp4(kept) <= room
                }
            }
            if !fits {
                dropOthers = true
                kept = compactOptions(
                    &frame, start: optionsStart, end: end, kind: kind, keepSACKBlocks: 0, dropOthers: true,
                    write: false)
                fits = roundUp4(kept) <= room
            }
            guard fits else { return .noRoom }
            newOptions = roundUp4(kept)
        }

        // Old values for the checksum update, read before anything moves.
        let oldChecksum = frame.u16(l4 &+ 16)
        let oldOffsetWord = frame.u16(l4 &+ 12)
        let oldOptionsSum = InternetChecksum.fold(
            InternetChecksum.sum(frame.span, from: optionsStart, count: oldOptions))

        // Rewrite the options in place (they only shrink), then open the gap for ours.
        if newOptions == oldOptions {
            neutralise(&frame, start: optionsStart, end: optionsStart &+ oldOptions, kind: kind)
        } else {
            let kept = compactOptions(
                &frame, start: optionsStart, end: optionsStart &+ oldOptions, kind: kind, keepSACKBlocks: keepBlocks,
                dropOthers: dropOthers, write: true)
            var i = optionsStart &+ kept
            while i < optionsStart &+ newOptions {
                frame[i] = TCPOptions.endOfList
                i &+= 1
            }
        }
        let newHeaderLength = 20 &+ n &+ newOptions
        let payloadLength = ipEnd &- (l4 &+ headerLength)
        frame.moveBytes(from: l4 &+ headerLength, to: l4 &+ newHeaderLength, count: payloadLength)
        frame.moveBytes(from: optionsStart, to: optionsStart &+ n, count: newOptions)
        _ = write(into: &frame, at: optionsStart, port: port, address: address, kind: kind)
        let newOffsetWord = UInt16(truncatingIfNeeded: newHeaderLength &>> 2) &<< 12 | oldOffsetWord & 0x0FFF
        frame.set16(newOffsetWord, at: l4 &+ 12)

        let delta = newHeaderLength &- headerLength
        let newIPEnd = ipEnd &+ delta
        let oldTCPLength = UInt32(truncatingIfNeeded: ipEnd &- l4)
        let newTCPLength = UInt32(truncatingIfNeeded: newIPEnd &- l4)
        // RFC 1624 eqn 3 over every changed word: ~m + m' for each, folded once. The options area
        // starts at an even offset of the TCP header, and the moved payload keeps its alignment.
        var acc = UInt64(~oldChecksum)
        acc &+= UInt64(~oldOffsetWord) &+ UInt64(newOffsetWord)
        acc &+= UInt64(~oldOptionsSum) &+ InternetChecksum.sum(frame.span, from: optionsStart, count: n &+ newOptions)
        acc &+= UInt64(~oldTCPLength) &+ UInt64(newTCPLength)
        frame.set16(~InternetChecksum.fold(acc), at: l4 &+ 16)

        if info.isV6 {
            frame.set16(UInt16(truncatingIfNeeded: newIPEnd &- l3 &- 40), at: l3 &+ 4)
        } else {
            frame.rewrite16(
                UInt16(truncatingIfNeeded: newIPEnd &- l3), at: l3 &+ 2, checksumAt: l3 &+ 10, dataStart: l3)
        }

        length = newIPEnd
        info.ipEnd = newIPEnd
        info.tcpHeaderLength = newHeaderLength
        info.payloadOffset = l4 &+ newHeaderLength
        _ = TCPOptions.scan(frame.span, tcpOffset: l4, headerLength: newHeaderLength, into: &info.tcpOptions)
        return newOptions == oldOptions ? .inserted : .pruned(removedBytes: oldOptions &- newOptions)
    }

    @inlinable
    static func roundUp4(_ n: Int) -> Int { (n &+ 3) & ~3 }

    /// True for the options pruning never removes.
    @inlinable
    static func isProtected(_ kind: UInt8) -> Bool {
        kind == TCPOptions.maximumSegmentSize || kind == TCPOptions.windowScale
            || kind == TCPOptions.sackPermitted || kind == TCPOptions.timestamps
    }

    /// Total SACK blocks in the (already validated) options [start, end).
    @inlinable
    static func sackBlockCount(_ frame: Span<UInt8>, start: Int, end: Int) -> Int {
        var blocks = 0
        var o = start
        while o < end {
            let kind = frame[o]
            if kind == TCPOptions.endOfList { break }
            if kind == TCPOptions.noOperation {
                o &+= 1
                continue
            }
            let length = Int(frame[o &+ 1])
            if kind == TCPOptions.sack { blocks &+= (length &- 2) / 8 }
            o &+= length
        }
        return blocks
    }

    /// Replaces every option of `kind` in [start, end) with NOPs (no checksum update: the caller
    /// folds the whole options area).
    @inlinable
    static func neutralise(_ frame: inout MutableSpan<UInt8>, start: Int, end: Int, kind: UInt8) {
        var o = start
        while o < end {
            let k = frame[o]
            if k == TCPOptions.endOfList { break }
            if k == TCPOptions.noOperation {
                o &+= 1
                continue
            }
            let length = Int(frame[o &+ 1])
            if k == kind {
                var i = o
                while i < o &+ length {
                    frame[i] = TCPOptions.noOperation
                    i &+= 1
                }
            }
            o &+= length
        }
    }

    /// Walks the (already validated) options [start, end) and keeps, in order, everything except
    /// NOP/EOL padding, options of `kind`, SACK blocks beyond the first `keepSACKBlocks`, and, with
    /// `dropOthers`, unprotected options. With `write`, the kept options are packed at `start` (they
    /// only move towards it, so reading ahead of the write position is safe).
    /// - Returns: the packed length, before padding.
    @inlinable
    static func compactOptions(
        _ frame: inout MutableSpan<UInt8>, start: Int, end: Int, kind: UInt8, keepSACKBlocks: Int, dropOthers: Bool,
        write: Bool
    ) -> Int {
        var r = start
        var w = start
        var blocksLeft = keepSACKBlocks
        while r < end {
            let k = frame[r]
            if k == TCPOptions.endOfList { break }
            if k == TCPOptions.noOperation {
                r &+= 1
                continue
            }
            let length = Int(frame[r &+ 1])
            var keptLength = 0
            if k == kind {
                keptLength = 0
            } else if k == TCPOptions.sack {
                let blocks = min((length &- 2) / 8, blocksLeft)
                blocksLeft &-= blocks
                if blocks > 0 {
                    keptLength = 2 &+ 8 &* blocks
                    if write {
                        frame[w] = k
                        frame[w &+ 1] = UInt8(truncatingIfNeeded: keptLength)
                        frame.moveBytes(from: r &+ 2, to: w &+ 2, count: keptLength &- 2)
                    }
                }
            } else if !dropOthers || isProtected(k) {
                keptLength = length
                if write { frame.moveBytes(from: r, to: w, count: length) }
            }
            w &+= keptLength
            r &+= length
        }
        return w &- start
    }
}
