// Finding a PROXY protocol header at the start of a byte stream (haproxy doc/proxy-protocol.txt §2.2,
// "Identifying the protocol version", and §2.1 for the v1 line rules).
//
// Sluice writes headers itself (ProxyProtocolV1/V2) and never trusts one a client sends: presence
// must be configured, never guessed, and addresses come from the IP header. Detection is for the
// services that pass a client's header through (LB cascading) and for stripping or rejecting one
// elsewhere. The rules:
// - v2: the 12-byte signature, then a version nibble of 2 (any other version after the signature is
//   invalid); complete once 16 + the length field bytes are present.
// - v1: "PROXY " and a CRLF ending the line within the first 107 bytes; a lone CR or LF before it, or
//   107 bytes without one, is invalid.
// - Anything that is a proper prefix of either is incomplete; anything else is not a PROXY header.
// `detect` looks at framing only and runs in O(header) without allocating; `parse` (in
// ProxyProtocol+Parse.swift) also validates and decodes the content.

/// PROXY protocol detection and parsing.
public enum ProxyProtocol {
    /// "PROXY " as six big-endian bytes.
    @usableFromInline
    static let v1Prefix: UInt64 = 0x5052_4F58_5920

    /// Classifies the bytes `bytes[from ..< from + count]` (clamped to the span) as the start of a v1
    /// or v2 header, a prefix of one, something invalid, or no header at all.
    @inlinable
    public static func detect(_ bytes: Span<UInt8>, from: Int, count: Int) -> ProxyProtocolDetection {
        guard from >= 0, count >= 0, from <= bytes.count else { return .none }
        let n = min(count, bytes.count &- from)
        if n == 0 { return .incomplete }
        if bytes[from] == UInt8(ascii: "P") { return detectV1(bytes, from: from, count: n) }
        return detectV2(bytes, from: from, count: n)
    }

    @inlinable
    static func detectV2(_ bytes: Span<UInt8>, from: Int, count n: Int) -> ProxyProtocolDetection {
        var i = 0
        while i < 12 && i < n {
            if bytes[from &+ i] != ProxyProtocolV2.signatureByte(i) { return .none }
            i &+= 1
        }
        if n < 13 { return .incomplete }
        if bytes[from &+ 12] &>> 4 != 2 { return .invalid }
        if n < ProxyProtocolV2.fixedLength { return .incomplete }
        let total = ProxyProtocolV2.fixedLength &+ Int(bytes.u16(from &+ 14))
        return n < total ? .incomplete : .v2(length: total)
    }

    @inlinable
    static func detectV1(_ bytes: Span<UInt8>, from: Int, count n: Int) -> ProxyProtocolDetection {
        var i = 0
        while i < 6 && i < n {
            if bytes[from &+ i] != UInt8(truncatingIfNeeded: v1Prefix &>> UInt64(40 &- 8 &* i)) { return .none }
            i &+= 1
        }
        let limit = min(n, ProxyProtocolV1.maximumLength)
        while i < limit {
            let b = bytes[from &+ i]
            if b == 0x0A { return .invalid }
            if b == 0x0D {
                // The LF must fall within the first 107 bytes.
                if i &+ 1 >= ProxyProtocolV1.maximumLength { return .invalid }
                if i &+ 1 >= n { return .incomplete }
                return bytes[from &+ i &+ 1] == 0x0A ? .v1(length: i &+ 2) : .invalid
            }
            i &+= 1
        }
        return n >= ProxyProtocolV1.maximumLength ? .invalid : .incomplete
    }
}
