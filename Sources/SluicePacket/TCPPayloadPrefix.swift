// Bytes written in front of a TCP segment's payload: the PROXY protocol header (issue 4) goes there on
// a connection's first data segment. The data plane and Perf's pure-packet benchmarks both insert through
// this one function, so the benchmark measures the code the gateway runs.
//
// The TCP checksum is updated incrementally (RFC 1624, docs/design.md §4.6), never recomputed, so a payload that
// arrived corrupted stays detectably corrupted: the inserted bytes, the flags word (PSH may change) and
// the pseudo-header's TCP length are folded in. The payload starts at an even offset of the TCP header
// (its length is a multiple of 4); when the inserted length is odd (a PROXY v1 line can be), the moved
// payload lands on an odd offset and contributes its bytes swapped (RFC 1071 §2(B)): ~S + swap(S), with
// S the payload's sum, the only time the payload is read.

/// Insertion of bytes in front of a TCP segment's payload.
public enum TCPPayloadPrefix {
    /// Makes `count` bytes of room at the start of the payload of the TCP segment `info` describes and
    /// lets `write` fill them (it gets the frame and the offset, and returns how many bytes it wrote);
    /// then updates the TCP checksum, the IP length (and the IPv4 header checksum) and `length`. The
    /// caller moves its `info.ipEnd` and `info.payloadLength` on by `count` when this returns true (`info`
    /// is only read, so a caller whose `write` reads its own state can pass its `info` without a copy).
    /// An empty payload gets PSH, so the receiver hands the bytes to the application now (RFC 9293
    /// §3.9.1). When `write` returns anything but `count` the payload is moved back, the frame is as it
    /// was, and the result is false. False too, with nothing touched, when `info` does not describe a
    /// TCP segment inside `length`, the result would not fit the frame, or the IP length field cannot
    /// hold it: the caller's own room checks are not relied on.
    @inlinable
    public static func insert(
        count: Int, into frame: inout MutableSpan<UInt8>, length: inout Int, info: PacketInfo,
        write: (inout MutableSpan<UInt8>, Int) -> Int
    ) -> Bool {
        let l3 = info.l3Offset
        let l4 = info.l4Offset
        let start = info.payloadOffset
        // The layout the parse described, and room for the result. l3 <= l4 <= start keeps all three
        // inside the frame, so that adding a header length to them cannot wrap.
        guard count > 0, l3 >= 0, l3 <= l4, l4 <= start, l4 >= l3 &+ 20, start >= l4 &+ 20, start <= info.ipEnd,
            info.ipEnd <= length, length <= frame.count, count <= frame.count &- length,
            info.ipEnd &+ count &- l3 <= (info.isV6 ? 65535 &+ 40 : 65535)
        else { return false }
        let payloadLength = info.ipEnd &- start
        let odd = count & 1 == 1
        let payloadSum =
            odd && payloadLength > 0
            ? InternetChecksum.fold(InternetChecksum.sum(frame.span, from: start, count: payloadLength)) : 0
        let oldChecksum = frame.u16(l4 &+ 16)
        let oldFlagsWord = frame.u16(l4 &+ 12)
        frame.moveBytes(from: start, to: start &+ count, count: payloadLength)
        guard write(&frame, start) == count else {
            frame.moveBytes(from: start &+ count, to: start, count: payloadLength)
            return false
        }
        if payloadLength == 0 { frame[l4 &+ 13] |= TCPFlag.psh }
        let oldTCPLength = UInt32(truncatingIfNeeded: info.ipEnd &- l4)
        let ipEnd = info.ipEnd &+ count
        length = ipEnd
        let newTCPLength = UInt32(truncatingIfNeeded: ipEnd &- l4)
        var acc = UInt64(~oldChecksum)
        acc &+= UInt64(~oldFlagsWord) &+ UInt64(frame.u16(l4 &+ 12))
        acc &+= UInt64(~oldTCPLength) &+ UInt64(newTCPLength)
        acc &+= InternetChecksum.sum(frame.span, from: start, count: count)
        if odd { acc &+= UInt64(~payloadSum) &+ UInt64(payloadSum.byteSwapped) }
        frame.set16(~InternetChecksum.fold(acc), at: l4 &+ 16)
        if info.isV6 {
            frame.set16(UInt16(truncatingIfNeeded: ipEnd &- l3 &- 40), at: l3 &+ 4)
        } else {
            let old = frame.u16(l3 &+ 2)
            let new = UInt16(truncatingIfNeeded: ipEnd &- l3)
            frame.set16(new, at: l3 &+ 2)
            frame.set16(InternetChecksum.update(frame.u16(l3 &+ 10), old: old, new: new), at: l3 &+ 10)
        }
        return true
    }
}
