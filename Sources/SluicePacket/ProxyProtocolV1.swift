// PROXY protocol version 1, the text line (haproxy doc/proxy-protocol.txt §2.1):
//
//     "PROXY" SP ("TCP4" | "TCP6") SP src SP dst SP sport SP dport CRLF      (at most 104 bytes)
//     "PROXY UNKNOWN" CRLF                                                     (15 bytes)
//
// The line is written straight into the frame (per connection, on the hot path): the caller asks for
// `length(...)`, makes that much room at the start of the payload, then calls `write`. Nothing
// allocates; the address text is formatted by ProxyProtocolText. Both addresses must be written in
// one family: when they differ (an IPv6 client reaching an IPv4 service, say), the IPv4 one is written
// IPv4-mapped (::ffff:a.b.c.d) and the line says TCP6, which is what haproxy does in the same case.
//
// Addresses always come from the IP header of the connection being proxied, never from a header the
// client sent (docs/protocol.md §7, "Anti-spoofing").

/// PROXY protocol v1 (text) encoder.
public enum ProxyProtocolV1 {
    /// The longest line a receiver must accept, CRLF included ("PROXY UNKNOWN" with two full IPv6
    /// addresses and ports). Lines this encoder writes are at most 104 bytes (TCP6).
    public static let maximumLength = 107
    /// Length of `PROXY UNKNOWN\r\n`.
    public static let unknownLength = 15

    /// The exact length of the line `write` produces for these endpoints.
    @inlinable
    public static func length(
        source: IPAddress, sourcePort: UInt16, destination: IPAddress, destinationPort: UInt16
    ) -> Int {
        let v6 = source.isV6 || destination.isV6
        let src = v6 ? ProxyProtocolText.mappedToV6(source) : source
        let dst = v6 ? ProxyProtocolText.mappedToV6(destination) : destination
        // "PROXY TCPx " + src + SP + dst + SP + sport + SP + dport + CRLF
        return 11 &+ ProxyProtocolText.addressLength(src) &+ 1 &+ ProxyProtocolText.addressLength(dst) &+ 1
            &+ ProxyProtocolText.decimalLength(UInt32(sourcePort)) &+ 1
            &+ ProxyProtocolText.decimalLength(UInt32(destinationPort)) &+ 2
    }

    /// Writes `PROXY TCP4 src dst sport dport\r\n` (or TCP6) at `at`.
    /// - Returns: the number of bytes written, or 0 (and nothing written) if the line does not fit in
    ///   `span` from `at`.
    @inlinable
    public static func write(
        into span: inout MutableSpan<UInt8>, at: Int, source: IPAddress, sourcePort: UInt16,
        destination: IPAddress, destinationPort: UInt16
    ) -> Int {
        let total = length(
            source: source, sourcePort: sourcePort, destination: destination, destinationPort: destinationPort)
        guard at >= 0, at <= span.count &- total else { return 0 }
        let v6 = source.isV6 || destination.isV6
        let src = v6 ? ProxyProtocolText.mappedToV6(source) : source
        let dst = v6 ? ProxyProtocolText.mappedToV6(destination) : destination
        // "PROX" "Y TC" "P4 " / "P6 "
        span.set32(0x5052_4F58, at: at)
        span.set32(0x5920_5443, at: at &+ 4)
        span.set16(v6 ? 0x5036 : 0x5034, at: at &+ 8)
        span[at &+ 10] = UInt8(ascii: " ")
        var o = at &+ 11
        o &+= ProxyProtocolText.writeAddress(src, into: &span, at: o)
        span[o] = UInt8(ascii: " ")
        o &+= 1
        o &+= ProxyProtocolText.writeAddress(dst, into: &span, at: o)
        span[o] = UInt8(ascii: " ")
        o &+= 1
        o &+= ProxyProtocolText.writeDecimal(UInt32(sourcePort), into: &span, at: o)
        span[o] = UInt8(ascii: " ")
        o &+= 1
        o &+= ProxyProtocolText.writeDecimal(UInt32(destinationPort), into: &span, at: o)
        span.set16(0x0D0A, at: o)
        o &+= 2
        return o &- at
    }

    /// Writes `PROXY UNKNOWN\r\n` (15 bytes) at `at`: the receiver then uses the real endpoints.
    /// - Returns: 15, or 0 (and nothing written) if it does not fit.
    @inlinable
    public static func writeUnknown(into span: inout MutableSpan<UInt8>, at: Int) -> Int {
        guard at >= 0, at <= span.count &- unknownLength else { return 0 }
        // "PROX" "Y UN" "KNOW" "N\r" "\n"
        span.set32(0x5052_4F58, at: at)
        span.set32(0x5920_554E, at: at &+ 4)
        span.set32(0x4B4E_4F57, at: at &+ 8)
        span.set16(0x4E0D, at: at &+ 12)
        span[at &+ 14] = 0x0A
        return unknownLength
    }
}
