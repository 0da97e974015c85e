// The packet quoted inside an ICMP error (RFC 792, RFC 4443 §3): the IP header and at least the
// first 8 bytes of its transport header, which is what identifies the connection it belongs to.
// Offsets are absolute frame offsets, like PacketInfo's, so the data plane can rewrite the quoted
// addresses, ports and sequence number in place.

/// The IP packet quoted in an ICMP/ICMPv6 error. Filled by `PacketParser.parseICMPError`.
public struct EmbeddedPacket: Sendable, Equatable {
    /// Offset of the quoted IP header in the frame.
    public var l3Offset: Int
    /// True when the quoted packet is IPv6.
    public var isV6: Bool
    /// Quoted IP source address (the original sender of the packet that caused the error).
    public var source: IPAddress
    /// Quoted IP destination address.
    public var destination: IPAddress
    /// Quoted IP header length (IPv4 IHL × 4; IPv6 40 plus extension headers).
    public var ipHeaderLength: Int
    /// Quoted transport protocol.
    public var l4Protocol: UInt8
    /// Offset of the quoted transport header.
    public var l4Offset: Int
    /// Quoted TCP/UDP source port.
    public var sourcePort: UInt16
    /// Quoted TCP/UDP destination port.
    public var destinationPort: UInt16
    /// True when the quoted TCP sequence number (at `l4Offset + 4`) is present.
    public var hasTCPSequence: Bool
    /// End of the quoted bytes in the frame (the outer datagram's end).
    public var end: Int

    /// An empty result.
    @inlinable
    public init() {
        l3Offset = 0
        isV6 = false
        source = IPAddress(v4: 0)
        destination = IPAddress(v4: 0)
        ipHeaderLength = 0
        l4Protocol = 0
        l4Offset = 0
        sourcePort = 0
        destinationPort = 0
        hasTCPSequence = false
        end = 0
    }
}
