// Text forms of IPAddress, for configuration, logs and tests (never on the hot path).
//
// Parsing accepts the dotted quad (four decimal octets, no leading zeros: "010" is ambiguous between
// decimal and the octal inet_aton reads) and RFC 4291 §2.2 IPv6 text: up to eight groups of 1–4 hex
// digits, at most one "::", optionally ending in a dotted quad. Zone indexes ("%eth0") and prefix
// lengths are not addresses and are rejected.
//
// Output is the RFC 5952 canonical form: lowercase hex, no leading zeros, the longest run of two or
// more zero groups (the first one on a tie) shortened to "::", and IPv4-mapped addresses
// (::ffff:0:0/96) written with a dotted-quad tail (§5).

extension IPAddress: CustomStringConvertible {
    /// Parses an IPv4 dotted quad or an IPv6 address in RFC 4291 text form. Returns nil for anything
    /// else.
    public init?(_ text: some StringProtocol) {
        let bytes = Array(text.utf8)
        if !bytes.contains(UInt8(ascii: ":")) {
            guard let v4 = IPAddress.parseDottedQuad(bytes[...]) else { return nil }
            self.init(v4: v4)
            return
        }
        guard let groups = IPAddress.parseV6(bytes) else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for i in 0..<4 {
            high = high << 16 | UInt64(groups[i])
            low = low << 16 | UInt64(groups[i + 4])
        }
        self.init(v6High: high, low: low)
    }

    /// The address in canonical text form (dotted quad, or RFC 5952 IPv6).
    public var description: String {
        if !isV6 {
            return IPAddress.dottedQuad(v4)
        }
        let groups = (0..<8).map { i -> UInt16 in
            let word = i < 4 ? high : low
            return UInt16(truncatingIfNeeded: word >> UInt64(48 - 16 * (i % 4)))
        }
        // ::ffff:a.b.c.d — IPv4-mapped (RFC 5952 §5).
        if high == 0 && low >> 32 == 0xFFFF {
            return "::ffff:" + IPAddress.dottedQuad(UInt32(truncatingIfNeeded: low))
        }
        var bestStart = -1
        var bestLength = 1
        var i = 0
        while i < 8 {
            if groups[i] == 0 {
                var j = i
                while j < 8 && groups[j] == 0 { j += 1 }
                if j - i > bestLength {
                    bestStart = i
                    bestLength = j - i
                }
                i = j
            } else {
                i += 1
            }
        }
        func hex(_ range: Range<Int>) -> String {
            range.map { String(groups[$0], radix: 16) }.joined(separator: ":")
        }
        if bestStart < 0 {
            return hex(0..<8)
        }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
    }

    static func dottedQuad(_ v: UInt32) -> String {
        "\(v >> 24).\(v >> 16 & 0xFF).\(v >> 8 & 0xFF).\(v & 0xFF)"
    }

    static func parseDottedQuad(_ bytes: ArraySlice<UInt8>) -> UInt32? {
        var value: UInt32 = 0
        var parts = 0
        var octet: UInt32 = 0
        var digits = 0
        var leadingZero = false
        for b in bytes {
            if b == UInt8(ascii: ".") {
                guard digits > 0, parts < 3 else { return nil }
                value = value << 8 | octet
                parts += 1
                octet = 0
                digits = 0
                continue
            }
            guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { return nil }
            if digits == 1 && leadingZero { return nil }
            if digits == 0 { leadingZero = b == UInt8(ascii: "0") }
            octet = octet * 10 + UInt32(b - UInt8(ascii: "0"))
            digits += 1
            guard octet <= 255 else { return nil }
        }
        guard digits > 0, parts == 3 else { return nil }
        return value << 8 | octet
    }

    /// Splits IPv6 text into its eight 16-bit groups.
    static func parseV6(_ bytes: [UInt8]) -> [UInt16]? {
        guard bytes.count >= 2 else { return nil }
        var head: [UInt16] = []
        var tail: [UInt16] = []
        var sawDoubleColon = false
        var i = 0
        if bytes[0] == UInt8(ascii: ":") {
            // Only "::" may start an address.
            guard bytes[1] == UInt8(ascii: ":") else { return nil }
            sawDoubleColon = true
            i = 2
        }
        while i < bytes.count {
            // One group, or the dotted-quad tail.
            var j = i
            var value: UInt32 = 0
            while j < bytes.count, let d = hexDigit(bytes[j]) {
                value = value << 4 | UInt32(d)
                j += 1
                guard j - i <= 4 else { break }
            }
            if j < bytes.count && bytes[j] == UInt8(ascii: ".") {
                guard let v4 = parseDottedQuad(bytes[i...]) else { return nil }
                let groups = [UInt16(truncatingIfNeeded: v4 >> 16), UInt16(truncatingIfNeeded: v4)]
                if sawDoubleColon { tail += groups } else { head += groups }
                i = bytes.count
                break
            }
            guard j > i, j - i <= 4 else { return nil }
            if sawDoubleColon { tail.append(UInt16(value)) } else { head.append(UInt16(value)) }
            i = j
            if i == bytes.count { break }
            guard bytes[i] == UInt8(ascii: ":") else { return nil }
            i += 1
            if i < bytes.count && bytes[i] == UInt8(ascii: ":") {
                guard !sawDoubleColon else { return nil }
                sawDoubleColon = true
                i += 1
                if i == bytes.count { break }
            } else if i == bytes.count {
                // A single trailing colon.
                return nil
            }
        }
        let count = head.count + tail.count
        if sawDoubleColon {
            // "::" stands for at least one zero group (RFC 4291 §2.2 item 2).
            guard count <= 7 else { return nil }
            return head + [UInt16](repeating: 0, count: 8 - count) + tail
        }
        guard count == 8 else { return nil }
        return head
    }

    static func hexDigit(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
