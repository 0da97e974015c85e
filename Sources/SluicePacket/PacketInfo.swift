// The result of parsing one frame: offsets and the few field values every later stage needs.
//
// A plain, trivially copyable value: the worker keeps one and the parser overwrites it per frame, so
// parsing allocates nothing. Offsets are absolute (from the first byte of the Ethernet header), so a
// rewrite can address any field of the frame without re-walking the headers. Fragments carry what
// is needed to match them to their datagram (docs/protocol.md §3 "Fragments").

/// Offsets and key fields of a parsed Ethernet/IP/L4 frame. Filled by `PacketParser.parse`.
public struct PacketInfo: Sendable, Equatable {
    /// Offset of the IP header: 14, or 18 behind one 802.1Q/802.1ad tag.
    public var l3Offset: Int
    /// VLAN ID of the tag (12 bits); 0 when untagged (or priority-tagged).
    public var vlanID: UInt16
    /// True for IPv6.
    public var isV6: Bool
    /// IP source address.
    public var source: IPAddress
    /// IP destination address.
    public var destination: IPAddress
    /// IPv4: IHL × 4 (options included). IPv6: 40 plus the extension headers walked.
    public var ipHeaderLength: Int
    /// `l3Offset` + IP total length: the end of the datagram. Ethernet padding may follow it.
    public var ipEnd: Int
    /// The transport protocol (IPv6: the next header after the extension headers).
    public var l4Protocol: UInt8
    /// Offset of the transport header (`l3Offset + ipHeaderLength`).
    public var l4Offset: Int
    /// TCP/UDP source port; 0 for other protocols.
    public var sourcePort: UInt16
    /// TCP/UDP destination port; 0 for other protocols.
    public var destinationPort: UInt16
    /// TCP flags byte (CWR ECE URG ACK PSH RST SYN FIN); see `TCPFlag`. 0 for other protocols.
    public var tcpFlags: UInt8
    /// TCP data offset × 4 (options included); 0 for other protocols.
    public var tcpHeaderLength: Int
    /// Offset of the L4 payload (after the TCP/UDP/ICMP header).
    public var payloadOffset: Int
    /// L4 payload length (UDP: from the UDP length field).
    public var payloadLength: Int
    /// ICMP/ICMPv6 type; 0 for other protocols.
    public var icmpType: UInt8
    /// ICMP/ICMPv6 code; 0 for other protocols.
    public var icmpCode: UInt8
    /// Offset of the IPv4 TTL or IPv6 hop-limit byte.
    public var hopLimitOffset: Int
    /// IPv4 DF flag; always true for IPv6 (routers never fragment it).
    public var dontFragment: Bool
    /// Positions of the TCP options (all absent for other protocols).
    public var tcpOptions: TCPOptionSummary
    /// Whether the packet is a whole datagram, its first fragment or a later one.
    public var fragment: FragmentKind
    /// The datagram's identification: the IPv4 ID widened, or the IPv6 fragment header's 32 bits; 0
    /// when `fragment` is `.whole`.
    public var fragmentIdentification: UInt32
    /// The fragment's offset in the datagram, in bytes (a multiple of 8); 0 for whole packets.
    public var fragmentOffset: Int
    /// The MF / M flag: more fragments follow this one.
    public var moreFragments: Bool
    /// IPv6: offset of the fragment header in the frame (its identification is 4 bytes in); 0 for
    /// IPv4 and whole packets.
    public var fragmentHeaderOffset: Int

    /// An empty result (all offsets and fields zero, addresses IPv4 0.0.0.0).
    @inlinable
    public init() {
        l3Offset = 0
        vlanID = 0
        isV6 = false
        source = IPAddress(v4: 0)
        destination = IPAddress(v4: 0)
        ipHeaderLength = 0
        ipEnd = 0
        l4Protocol = 0
        l4Offset = 0
        sourcePort = 0
        destinationPort = 0
        tcpFlags = 0
        tcpHeaderLength = 0
        payloadOffset = 0
        payloadLength = 0
        icmpType = 0
        icmpCode = 0
        hopLimitOffset = 0
        dontFragment = false
        tcpOptions = TCPOptionSummary()
        fragment = .whole
        fragmentIdentification = 0
        fragmentOffset = 0
        moreFragments = false
        fragmentHeaderOffset = 0
    }
}
