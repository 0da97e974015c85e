// Address and port text for PROXY protocol v1 lines, written straight into a frame and read straight
// out of one: no String, no Array, so a header can be built per connection on the hot path.
//
// Output follows haproxy doc/proxy-protocol.txt §2.1: decimal numbers without leading zeros, IPv4 as a
// dotted quad, IPv6 in RFC 5952 canonical form (lowercase hex without leading zeros, the longest run
// of two or more zero groups, the first on a tie, shortened to "::", and an IPv4-mapped address
// written "::ffff:a.b.c.d", §5). That is exactly IPAddress.description, which a test checks over many
// addresses; the description itself builds Strings and is not used here.
//
// Input (for the parser) is what the specification lets a sender write: IPv4 without leading zeros,
// IPv6 groups of 1–4 hex digits in either case with at most one "::" and an optional dotted-quad tail,
// decimal ports 0–65535 without leading zeros. Every reader takes a half-open byte range [from, to)
// that the caller has already checked against the span, so nothing here can trap.

/// Text formatting and parsing helpers for PROXY protocol v1.
@usableFromInline
enum ProxyProtocolText {
    // MARK: Measuring

    /// Number of decimal digits of `v` (1 for 0).
    @inlinable
    static func decimalLength(_ v: UInt32) -> Int {
        var n = 1
        var rest = v
        while rest >= 10 {
            rest /= 10
            n &+= 1
        }
        return n
    }

    /// Length of the dotted quad of `v`.
    @inlinable
    static func dottedQuadLength(_ v: UInt32) -> Int {
        decimalLength(v &>> 24) &+ decimalLength(v &>> 16 & 0xFF) &+ decimalLength(v &>> 8 & 0xFF)
            &+ decimalLength(v & 0xFF) &+ 3
    }

    /// Group `i` (0–7) of an IPv6 address.
    @inlinable
    static func group(_ a: IPAddress, _ i: Int) -> UInt16 {
        let word = i < 4 ? a.high : a.low
        return UInt16(truncatingIfNeeded: word &>> UInt64(48 &- 16 &* (i & 3)))
    }

    /// Number of hex digits of a group (1 for 0).
    @inlinable
    static func hexLength(_ g: UInt16) -> Int {
        g >= 0x1000 ? 4 : g >= 0x100 ? 3 : g >= 0x10 ? 2 : 1
    }

    /// True for ::ffff:0:0/96, which RFC 5952 §5 writes with a dotted-quad tail.
    @inlinable
    static func isV4Mapped(_ a: IPAddress) -> Bool { a.high == 0 && a.low &>> 32 == 0xFFFF }

    /// The run of zero groups RFC 5952 §4.2 shortens: the longest of length ≥ 2, the first on a tie.
    /// Returns start −1 when there is none.
    @inlinable
    static func zeroRun(_ a: IPAddress) -> (start: Int, length: Int) {
        var bestStart = -1
        var bestLength = 1
        var i = 0
        while i < 8 {
            if group(a, i) == 0 {
                var j = i &+ 1
                while j < 8 && group(a, j) == 0 { j &+= 1 }
                if j &- i > bestLength {
                    bestStart = i
                    bestLength = j &- i
                }
                i = j
            } else {
                i &+= 1
            }
        }
        return bestStart < 0 ? (-1, 0) : (bestStart, bestLength)
    }

    /// Length of the canonical text of an IPv6 address.
    @inlinable
    static func ipv6Length(_ a: IPAddress) -> Int {
        if isV4Mapped(a) { return 7 &+ dottedQuadLength(UInt32(truncatingIfNeeded: a.low)) }
        let run = zeroRun(a)
        var n = 0
        var written = 0
        var i = 0
        while i < 8 {
            if i == run.start {
                n &+= 2
                i &+= run.length
                written = 0
                continue
            }
            if written > 0 { n &+= 1 }
            n &+= hexLength(group(a, i))
            written &+= 1
            i &+= 1
        }
        return n
    }

    /// Length of the canonical text of an address of either family.
    @inlinable
    static func addressLength(_ a: IPAddress) -> Int {
        a.isV6 ? ipv6Length(a) : dottedQuadLength(a.v4)
    }

    // MARK: Writing (callers check room first; each returns the bytes written)

    @inlinable
    static func writeDecimal(_ v: UInt32, into s: inout MutableSpan<UInt8>, at: Int) -> Int {
        let n = decimalLength(v)
        var rest = v
        var i = at &+ n
        repeat {
            i &-= 1
            s[i] = 0x30 &+ UInt8(truncatingIfNeeded: rest % 10)
            rest /= 10
        } while rest > 0
        return n
    }

    @inlinable
    static func writeDottedQuad(_ v: UInt32, into s: inout MutableSpan<UInt8>, at: Int) -> Int {
        var o = at
        o &+= writeDecimal(v &>> 24, into: &s, at: o)
        s[o] = UInt8(ascii: ".")
        o &+= 1
        o &+= writeDecimal(v &>> 16 & 0xFF, into: &s, at: o)
        s[o] = UInt8(ascii: ".")
        o &+= 1
        o &+= writeDecimal(v &>> 8 & 0xFF, into: &s, at: o)
        s[o] = UInt8(ascii: ".")
        o &+= 1
        o &+= writeDecimal(v & 0xFF, into: &s, at: o)
        return o &- at
    }

    @inlinable
    static func writeHexGroup(_ g: UInt16, into s: inout MutableSpan<UInt8>, at: Int) -> Int {
        let n = hexLength(g)
        var i = 0
        while i < n {
            let nibble = UInt8(truncatingIfNeeded: g &>> UInt16(4 &* (n &- 1 &- i))) & 0x0F
            // "0"–"9" are 0x30–0x39, "a"–"f" are 0x61–0x66.
            s[at &+ i] = nibble < 10 ? 0x30 &+ nibble : 0x57 &+ nibble
            i &+= 1
        }
        return n
    }

    @inlinable
    static func writeIPv6(_ a: IPAddress, into s: inout MutableSpan<UInt8>, at: Int) -> Int {
        var o = at
        if isV4Mapped(a) {
            // "::ffff:"
            s[o] = UInt8(ascii: ":")
            s[o &+ 1] = UInt8(ascii: ":")
            s[o &+ 2] = UInt8(ascii: "f")
            s[o &+ 3] = UInt8(ascii: "f")
            s[o &+ 4] = UInt8(ascii: "f")
            s[o &+ 5] = UInt8(ascii: "f")
            s[o &+ 6] = UInt8(ascii: ":")
            o &+= 7
            o &+= writeDottedQuad(UInt32(truncatingIfNeeded: a.low), into: &s, at: o)
            return o &- at
        }
        let run = zeroRun(a)
        var written = 0
        var i = 0
        while i < 8 {
            if i == run.start {
                s[o] = UInt8(ascii: ":")
                s[o &+ 1] = UInt8(ascii: ":")
                o &+= 2
                i &+= run.length
                written = 0
                continue
            }
            if written > 0 {
                s[o] = UInt8(ascii: ":")
                o &+= 1
            }
            o &+= writeHexGroup(group(a, i), into: &s, at: o)
            written &+= 1
            i &+= 1
        }
        return o &- at
    }

    @inlinable
    static func writeAddress(_ a: IPAddress, into s: inout MutableSpan<UInt8>, at: Int) -> Int {
        a.isV6 ? writeIPv6(a, into: &s, at: at) : writeDottedQuad(a.v4, into: &s, at: at)
    }

    /// `a` as an IPv4-mapped IPv6 address (::ffff:a.b.c.d) if it is IPv4, else unchanged.
    @inlinable
    static func mappedToV6(_ a: IPAddress) -> IPAddress {
        a.isV6 ? a : IPAddress(v6High: 0, low: 0xFFFF_0000_0000 | UInt64(a.v4))
    }

    // MARK: Parsing (ranges already checked against the span)

    /// A decimal number of at most `maximum`, 1–5 digits, no leading zero (except "0" itself).
    static func parseDecimal(_ s: Span<UInt8>, from: Int, to: Int, maximum: UInt32) -> UInt32? {
        let n = to - from
        guard n >= 1, n <= 5 else { return nil }
        if n > 1 && s[from] == UInt8(ascii: "0") { return nil }
        var v: UInt32 = 0
        var i = from
        while i < to {
            let d = s[i] &- UInt8(ascii: "0")
            guard d <= 9 else { return nil }
            v = v * 10 + UInt32(d)
            i += 1
        }
        return v <= maximum ? v : nil
    }

    /// A dotted quad filling exactly [from, to).
    static func parseDottedQuad(_ s: Span<UInt8>, from: Int, to: Int) -> UInt32? {
        var value: UInt32 = 0
        var start = from
        var parts = 0
        var i = from
        while i <= to {
            if i == to || s[i] == UInt8(ascii: ".") {
                guard parts < 4, let octet = parseDecimal(s, from: start, to: i, maximum: 255) else { return nil }
                value = value << 8 | octet
                parts += 1
                start = i + 1
            }
            i += 1
        }
        return parts == 4 ? value : nil
    }

    static func hexDigit(_ b: UInt8) -> UInt32? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(b - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(b - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(b - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    /// RFC 4291 §2.2 IPv6 text filling exactly [from, to): 1–4 hex digits per group, at most one "::",
    /// optionally a dotted-quad tail. Groups accumulate in two UInt128 values (before and after "::").
    static func parseIPv6(_ s: Span<UInt8>, from: Int, to: Int) -> IPAddress? {
        guard to - from >= 2 else { return nil }
        var head: UInt128 = 0
        var tail: UInt128 = 0
        var headCount = 0
        var tailCount = 0
        var sawDoubleColon = false
        var i = from
        if s[i] == UInt8(ascii: ":") {
            // Only "::" may start an address.
            guard s[i + 1] == UInt8(ascii: ":") else { return nil }
            sawDoubleColon = true
            i += 2
        }
        while i < to {
            var j = i
            var value: UInt32 = 0
            while j < to, j - i < 5, let d = hexDigit(s[j]) {
                value = value << 4 | d
                j += 1
            }
            if j < to && s[j] == UInt8(ascii: ".") {
                // The dotted-quad tail ends the address and counts as two groups.
                guard headCount + tailCount <= 6, let v4 = parseDottedQuad(s, from: i, to: to) else { return nil }
                if sawDoubleColon {
                    tail = tail << 32 | UInt128(v4)
                    tailCount += 2
                } else {
                    head = head << 32 | UInt128(v4)
                    headCount += 2
                }
                i = to
                break
            }
            guard j > i, j - i <= 4, headCount + tailCount < 8 else { return nil }
            if sawDoubleColon {
                tail = tail << 16 | UInt128(value)
                tailCount += 1
            } else {
                head = head << 16 | UInt128(value)
                headCount += 1
            }
            i = j
            if i == to { break }
            guard s[i] == UInt8(ascii: ":") else { return nil }
            i += 1
            if i < to && s[i] == UInt8(ascii: ":") {
                guard !sawDoubleColon else { return nil }
                sawDoubleColon = true
                i += 1
            } else if i == to {
                // A single trailing colon.
                return nil
            }
        }
        let count = headCount + tailCount
        let value: UInt128
        if sawDoubleColon {
            // "::" stands for at least one zero group (RFC 4291 §2.2 item 2).
            guard count <= 7 else { return nil }
            value = headCount == 0 ? tail : head << UInt128(16 * (8 - headCount)) | tail
        } else {
            guard count == 8 else { return nil }
            value = head
        }
        return IPAddress(v6High: UInt64(truncatingIfNeeded: value >> 64), low: UInt64(truncatingIfNeeded: value))
    }
}
