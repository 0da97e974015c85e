// What every fragment of one IP datagram carries alike, and so what names the datagram: source,
// destination, protocol and identification (RFC 791 §3.2; RFC 8200 §4.5 for IPv6, whose
// identification is 32 bits). The family is the addresses'. A plain value, built per fragment from
// the parse result without allocation.

import SluicePacket

/// The datagram a fragment belongs to, as it was received.
public struct FragmentKey: Hashable, Sendable {
    public var source: IPAddress
    public var destination: IPAddress
    /// The IPv4 identification (16 bits, widened) or the IPv6 fragment header's 32 bits.
    public var identification: UInt32
    /// IP protocol number (6 TCP, 17 UDP).
    public var transport: UInt8

    @inlinable
    public init(source: IPAddress, destination: IPAddress, identification: UInt32, transport: UInt8) {
        self.source = source
        self.destination = destination
        self.identification = identification
        self.transport = transport
    }

    /// The key of the fragment `info` describes.
    @inlinable
    public init(_ info: PacketInfo) {
        self.init(
            source: info.source, destination: info.destination, identification: info.fragmentIdentification,
            transport: info.l4Protocol)
    }
}
