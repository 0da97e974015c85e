// PROXY protocol version 2, the binary header (haproxy doc/proxy-protocol.txt §2.2):
//
//     0–11  signature 0D 0A 0D 0A 00 0D 0A 51 55 49 54 0A
//     12    version 2 | command (0x21 PROXY, 0x20 LOCAL)
//     13    family | transport (0x11 TCP over IPv4, 0x21 TCP over IPv6, 0x00 UNSPEC for LOCAL)
//     14–15 length of everything after byte 15, big-endian
//     16…   src addr, dst addr, src port, dst port (12 bytes IPv4, 36 bytes IPv6), then TLVs
//
// TLVs written, in haproxy's order: CRC32C (type 0x03, 4 bytes, big-endian; the CRC-32C of the whole
// header computed with this field zeroed, §2.2.3) and UNIQUE_ID (type 0x05; Sluice puts the connection
// id there as 8 big-endian bytes, so RS logs can be joined with the gateway's). Sizes: 28 (TCP4) or 52
// (TCP6) bytes, +7 with CRC32C, +11 with UNIQUE_ID; 16 + TLVs for LOCAL, which carries no addresses
// (the sender "should not present any address", §2.2).
//
// Mixed families are written as TCP6 with the IPv4 side IPv4-mapped, as haproxy does. The encoder is
// allocation-free: the caller asks for `length(...)`, makes room, then calls `write`.

/// PROXY protocol v2 (binary) encoder.
public enum ProxyProtocolV2 {
    /// Byte 12's command nibble.
    public enum Command: Sendable, Equatable {
        /// The connection was made by the proxy itself (health checks): the receiver uses the real
        /// endpoints. Written with family UNSPEC and no address block.
        case local
        /// The connection is relayed on behalf of the client whose endpoints the header carries.
        case proxy
    }

    /// Length of the fixed part (signature, version/command, family, length).
    public static let fixedLength = 16
    /// The first 8 signature bytes, big-endian.
    public static let signatureHigh: UInt64 = 0x0D0A_0D0A_000D_0A51
    /// The last 4 signature bytes, big-endian ("QUIT\n" without the Q).
    public static let signatureLow: UInt32 = 0x5549_540A
    /// TLV type of the CRC32C checksum.
    public static let typeCRC32C: UInt8 = 0x03
    /// TLV type of the unique connection id.
    public static let typeUniqueID: UInt8 = 0x05
    /// TLV type of padding.
    public static let typeNoop: UInt8 = 0x04
    /// Family/transport byte for TCP over IPv4.
    public static let tcp4: UInt8 = 0x11
    /// Family/transport byte for TCP over IPv6.
    public static let tcp6: UInt8 = 0x21

    /// Signature byte `i` (0–11).
    @inlinable
    public static func signatureByte(_ i: Int) -> UInt8 {
        i < 8
            ? UInt8(truncatingIfNeeded: signatureHigh &>> UInt64(56 &- 8 &* i))
            : UInt8(truncatingIfNeeded: signatureLow &>> UInt32(24 &- 8 &* (i &- 8)))
    }

    /// The total header length `write` produces. `v6` is true when either address is IPv6; it is
    /// ignored for `.local`.
    @inlinable
    public static func length(v6: Bool, uniqueID: UInt64?, crc32c: Bool, command: Command = .proxy) -> Int {
        var n = fixedLength
        if command == .proxy { n &+= v6 ? 36 : 12 }
        if crc32c { n &+= 7 }
        if uniqueID != nil { n &+= 11 }
        return n
    }

    /// Writes a v2 header at `at`.
    /// - Parameters:
    ///   - uniqueID: if set, a UNIQUE_ID TLV carrying these 8 bytes (big-endian).
    ///   - crc32c: add a CRC32C TLV over the whole header.
    ///   - command: `.proxy` (the endpoints are written) or `.local` (no addresses).
    /// - Returns: the number of bytes written, or 0 (and nothing written) if the header does not fit
    ///   in `span` from `at`.
    @inlinable
    public static func write(
        into span: inout MutableSpan<UInt8>, at: Int, source: IPAddress, sourcePort: UInt16,
        destination: IPAddress, destinationPort: UInt16, uniqueID: UInt64? = nil, crc32c: Bool = false,
        command: Command = .proxy
    ) -> Int {
        let v6 = source.isV6 || destination.isV6
        let total = length(v6: v6, uniqueID: uniqueID, crc32c: crc32c, command: command)
        guard at >= 0, at <= span.count &- total else { return 0 }
        span.set64(signatureHigh, at: at)
        span.set32(signatureLow, at: at &+ 8)
        span[at &+ 12] = command == .proxy ? 0x21 : 0x20
        span.set16(UInt16(truncatingIfNeeded: total &- fixedLength), at: at &+ 14)
        var o = at &+ fixedLength
        if command == .local {
            span[at &+ 13] = 0x00
        } else if v6 {
            span[at &+ 13] = tcp6
            span.setAddress(ProxyProtocolText.mappedToV6(source), at: o)
            span.setAddress(ProxyProtocolText.mappedToV6(destination), at: o &+ 16)
            span.set16(sourcePort, at: o &+ 32)
            span.set16(destinationPort, at: o &+ 34)
            o &+= 36
        } else {
            span[at &+ 13] = tcp4
            span.set32(source.v4, at: o)
            span.set32(destination.v4, at: o &+ 4)
            span.set16(sourcePort, at: o &+ 8)
            span.set16(destinationPort, at: o &+ 10)
            o &+= 12
        }
        var crcOffset = -1
        if crc32c {
            span[o] = typeCRC32C
            span.set16(4, at: o &+ 1)
            span.set32(0, at: o &+ 3)
            crcOffset = o &+ 3
            o &+= 7
        }
        if let uniqueID {
            span[o] = typeUniqueID
            span.set16(8, at: o &+ 1)
            span.set64(uniqueID, at: o &+ 3)
            o &+= 11
        }
        if crcOffset >= 0 {
            span.set32(CRC32C.checksum(span.span, from: at, count: total), at: crcOffset)
        }
        return total
    }
}
