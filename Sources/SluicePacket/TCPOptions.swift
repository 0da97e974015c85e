// Walking and rewriting TCP options in place (RFC 9293 §3.1, RFC 7323, RFC 2018).
//
// A scan records positions only (TCPOptionSummary); rewrites change bytes in place and update the TCP
// checksum (at tcpOffset + 16) incrementally (RFC 1624), never by recomputation, so a corrupted
// segment stays detectably corrupted. Options are not 16-bit aligned: a field at an odd offset from
// the TCP header start contributes its bytes swapped to the checksum, which `InternetChecksum`'s
// `odd:` variants handle.
//
// Malformed means: an option length below 2 or running past the header, or one of the options Sluice
// rewrites (MSS, window scale, SACK-permitted, SACK, timestamps) with a length other than its RFC
// one. A stack would ignore such an option, but a middlebox that rewrites at fixed offsets must not
// guess, so the parser drops the segment (`.badTCPOptions`). Everything after EOL is ignored.

/// TCP option scanning and in-place rewriting with incremental checksum updates.
public enum TCPOptions {
    /// Option kinds.
    public static let endOfList: UInt8 = 0
    public static let noOperation: UInt8 = 1
    public static let maximumSegmentSize: UInt8 = 2
    public static let windowScale: UInt8 = 3
    public static let sackPermitted: UInt8 = 4
    public static let sack: UInt8 = 5
    public static let timestamps: UInt8 = 8
    /// TOA (TCP option of address), as dpvs uses it.
    public static let toa: UInt8 = 254

    /// Length of the fixed TCP header, in front of the options.
    public static let fixedHeaderLength = 20
    /// Offset of the checksum field in the TCP header.
    public static let checksumOffset = 16
    /// The kind and length bytes in front of an option's value.
    public static let optionPrefixLength = 2
    /// Length of one SACK block (left and right edge).
    public static let sackBlockLength = 8

    /// Walks the options of the TCP header at `tcpOffset` whose length (data offset × 4) is
    /// `headerLength` and records where the interesting ones are.
    /// - Returns: false if the options are malformed or the header does not fit in `frame`.
    @inlinable
    public static func scan(
        _ frame: Span<UInt8>, tcpOffset: Int, headerLength: Int, into summary: inout TCPOptionSummary
    ) -> Bool {
        summary = TCPOptionSummary()
        guard tcpOffset >= 0, headerLength >= 20, headerLength <= 60, tcpOffset + headerLength <= frame.count else {
            return false
        }
        let end = tcpOffset + headerLength
        var o = tcpOffset + 20
        while o < end {
            let kind = frame[o]
            if kind == endOfList { break }
            if kind == noOperation {
                o &+= 1
                continue
            }
            guard o + 1 < end else { return false }
            let length = Int(frame[o + 1])
            guard length >= 2, length <= end - o else { return false }
            switch kind {
            case maximumSegmentSize:
                guard length == 4 else { return false }
                if summary.mssOffset < 0 { summary.mssOffset = o + 2 }
            case windowScale:
                guard length == 3 else { return false }
                if summary.windowScaleOffset < 0 { summary.windowScaleOffset = o + 2 }
            case sackPermitted:
                guard length == 2 else { return false }
                if summary.sackPermittedOffset < 0 { summary.sackPermittedOffset = o }
            case sack:
                guard length >= 10, (length - 2) % 8 == 0 else { return false }
                if summary.sackOffset < 0 {
                    summary.sackOffset = o + 2
                    summary.sackBlockCount = (length - 2) / 8
                }
            case timestamps:
                guard length == 10 else { return false }
                if summary.timestampOffset < 0 { summary.timestampOffset = o + 2 }
            case toa:
                if summary.toaOffset < 0 {
                    summary.toaOffset = o
                    summary.toaLength = length
                }
            default:
                break
            }
            o &+= length
        }
        return true
    }

    /// Lowers the MSS option to `mss` if it is larger, updating the TCP checksum.
    /// - Returns: true if the value changed; false if it was already ≤ `mss`, absent, or out of range
    ///   (the value outside the options area of a header at `tcpOffset`, or past the frame).
    @inlinable
    public static func clampMSS(
        _ frame: inout MutableSpan<UInt8>, tcpOffset: Int, summary: TCPOptionSummary, to mss: UInt16
    ) -> Bool {
        let o = summary.mssOffset
        // Each offset is compared with one already bounded by the frame, so that no summary or
        // tcpOffset a caller passes can overflow a sum or reach outside the frame.
        guard tcpOffset >= 0, tcpOffset <= frame.count &- fixedHeaderLength,
            o >= tcpOffset &+ fixedHeaderLength &+ optionPrefixLength, o <= frame.count &- MemoryLayout<UInt16>.size
        else { return false }
        let old = frame.u16(o)
        guard old > mss else { return false }
        frame.rewrite16(mss, at: o, checksumAt: tcpOffset + 16, dataStart: tcpOffset)
        return true
    }

    /// Adds `delta` (wrapping, mod 2^32) to the left and right edge of every block of the SACK option,
    /// updating the TCP checksum. To subtract d, pass `0 &- d`.
    /// - Returns: false (and changes nothing) if the summary has no SACK option or it is out of range
    ///   (outside the options area of a header at `tcpOffset`, or its blocks past the frame).
    @discardableResult
    @inlinable
    public static func translateSACK(
        _ frame: inout MutableSpan<UInt8>, tcpOffset: Int, summary: TCPOptionSummary, delta: UInt32
    ) -> Bool {
        let start = summary.sackOffset
        let count = summary.sackBlockCount
        // As in clampMSS; the block count is divided, never multiplied, so a huge one cannot overflow.
        guard tcpOffset >= 0, tcpOffset <= frame.count &- fixedHeaderLength,
            start >= tcpOffset &+ fixedHeaderLength &+ optionPrefixLength, start <= frame.count, count > 0,
            count <= (frame.count &- start) / sackBlockLength
        else { return false }
        let odd = (start - tcpOffset) & 1 == 1
        var acc = UInt64(~frame.u16(tcpOffset + 16))
        var o = start
        let end = start + count * 8
        while o < end {
            let old = frame.u32(o)
            // Sequence space wraps (mod 2^32).
            let new = old &+ delta
            frame.set32(new, at: o)
            acc &+= odd ? UInt64(~old.rotatedLeft8) &+ UInt64(new.rotatedLeft8) : UInt64(~old) &+ UInt64(new)
            o &+= 4
        }
        frame.set16(~InternetChecksum.fold(acc), at: tcpOffset + 16)
        return true
    }

    /// Replaces `length` option bytes at `offset` with NOPs (kind 1), updating the TCP checksum. Used
    /// to strip an option (a client-sent TOA, timestamps on a SYN) without moving the rest.
    /// - Returns: false (and changes nothing) if the range is not inside the TCP options area
    ///   as far as `frame` can tell (offset below tcpOffset + 20 or past the frame, a negative length,
    ///   or a tcpOffset outside the frame).
    @discardableResult
    @inlinable
    public static func nopOut(_ frame: inout MutableSpan<UInt8>, offset: Int, length: Int, tcpOffset: Int) -> Bool {
        // As in clampMSS: every bound before any sum, so that none can overflow.
        guard tcpOffset >= 0, tcpOffset <= frame.count &- fixedHeaderLength, offset >= tcpOffset &+ fixedHeaderLength,
            offset <= frame.count, length >= 0, length <= frame.count &- offset
        else { return false }
        var acc = UInt64(~frame.u16(tcpOffset + 16))
        var i = offset
        let end = offset + length
        while i < end {
            let old = frame[i]
            frame[i] = noOperation
            // A byte at an even offset from the header start is the high byte of its word.
            let shift: UInt16 = (i - tcpOffset) & 1 == 0 ? 8 : 0
            acc &+= UInt64(~(UInt16(old) &<< shift)) &+ UInt64(UInt16(noOperation) &<< shift)
            i &+= 1
        }
        frame.set16(~InternetChecksum.fold(acc), at: tcpOffset + 16)
        return true
    }
}
