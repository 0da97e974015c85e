// Every frame Sluice does not forward has a reason, and every reason has a counter (docs/design.md §4.7).
// The raw value indexes the per-worker counter array, so cases are only ever appended.

/// Why a frame was dropped. `rawValue` is a stable counter index.
public enum DropReason: UInt8, CaseIterable, Sendable {
    /// Frame shorter than the headers it claims.
    case truncated = 0
    /// Ethertype other than IPv4/IPv6 (after an optional 802.1Q tag).
    case unsupportedEthertype
    /// IPv4 header fields invalid: version, IHL < 5, total length below the header or above the frame.
    case badIPv4Header
    /// IPv4 header checksum does not verify.
    case badIPv4Checksum
    /// IPv6 header invalid (version, payload length beyond the frame).
    case badIPv6Header
    /// An IPv6 extension header chain that is malformed or too long to walk.
    case badExtensionHeader
    /// A fragment Sluice does not forward: of a protocol other than TCP or UDP, or an IPv6 fragment
    /// header not followed directly by TCP or UDP (docs/protocol.md §3 "Fragments").
    case fragment
    /// A transport protocol the data plane does not handle for this address.
    case unsupportedProtocol
    /// TCP header invalid: data offset < 5 or beyond the datagram.
    case badTCPHeader
    /// TCP options malformed (length 0/1 or running past the header).
    case badTCPOptions
    /// UDP length field inconsistent with the datagram.
    case badUDPHeader
    /// ICMP/ICMPv6 message too short, or an error whose embedded packet cannot be parsed.
    case badICMP
    /// ICMP type that is not an error related to a connection (echo to a VIP etc.).
    case icmpNotRelated
    /// No virtual service for the destination VIP:port/protocol.
    case noService
    /// No connection for a packet that needs one (not a SYN, or a reply to an unknown LIP port).
    case noConnection
    /// A virtual service whose real servers all have weight 0 or are down.
    case noRealServer
    /// No free local port in the virtual service's local-address group (sa_miss).
    case localPortsExhausted
    /// Connection table full.
    case connectionTableFull
    /// No route to the rewritten destination.
    case noRoute
    /// The route leaves through an interface the worker does not own.
    case routeNotOnWorker
    /// Next hop's link-layer address not known yet; resolution was asked of the kernel.
    case neighbourUnresolved
    /// TTL / hop limit expired; an ICMP time-exceeded was sent instead.
    case ttlExceeded
    /// Larger than the egress MTU with DF set (or IPv6); an ICMP frag-needed / PTB was sent instead.
    case tooBig
    /// The frame does not fit in the buffer after a rewrite that grows it.
    case noRoom
    /// TCP segment not acceptable in the connection's state (e.g. a stray SYN-ACK).
    case invalidState
    /// A frame another worker handed over belongs to neither (owner functions disagree: a bug), or a
    /// frame arrived at a worker that does not own it with no way to hand it on.
    case wrongWorker
    /// The ring to the worker that owns the frame was full (back-pressure between workers).
    case handOffFull
    /// Passed to the kernel by the steering program because the frame's RX queue has no worker's socket
    /// (the interface gained RX queues after start, `ethtool -L`); counted by the program, not a worker.
    case unservedQueue
    /// The transmit ring was full.
    case txRingFull
    /// A UDP or TCP checksum that does not verify on a packet Sluice must rebuild.
    case badL4Checksum
    /// The frame was addressed to a VIP/LIP but in a family the service does not serve.
    case familyMismatch
    /// An ICMP error Sluice would originate was suppressed by the rate limit.
    case icmpRateLimited
    /// SYNPROXY: a client segment kept until the real server's handshake completes, then replayed
    /// (not lost; counted here because the received buffer is given back).
    case heldForReplay
    /// SYNPROXY: an ACK to a SYN-proxied service whose SYN cookie is invalid or expired.
    case badCookie
    /// SYNPROXY: no room to hold another client segment (per-connection bound or global pool).
    case holdQueueFull
    /// SYNPROXY: a copy of a client segment already held (a retransmission).
    case heldDuplicate
    /// SYNPROXY: the real server repeated the same pure ACK beyond the ACK-storm threshold.
    case ackStorm
    /// A RST whose sequence number lies outside the receiver's window (RFC 5961 §3).
    case rstOutOfWindow
    /// A segment of a connection whose real server went down; answered with a RST where possible.
    case realServerGone
    /// A frame on the wrong side of a two-interface gateway: client-direction (to a VIP) arriving on the
    /// internal interface, server-direction (to a LIP) on the external one, or an ICMP error about
    /// either on the other side.
    case wrongSide
    /// A new UDP flow refused because UDP flows already hold their share (half) of the connection table,
    /// or its virtual server's flows their limit (`udp_flow_limit`): a flood of spoofed datagrams cannot
    /// take the entries TCP or the other services need.
    case udpFlowLimit
    /// A new UDP flow refused because its client address already holds `udp_source_flow_limit` flows.
    case udpSourceFlowLimit
    /// A first fragment too short to hold the whole transport header (UDP's 8 bytes, TCP's data offset
    /// with options): the tiny-fragment attack of RFC 1858 §3.
    case tinyFragment
    /// A later fragment whose offset lies inside the transport header (below 8 bytes for UDP, 20 for
    /// TCP): it could rewrite the ports or flags the first fragment was judged by (RFC 1858 §4).
    case fragmentOverlap
    /// A later fragment that arrived before its first fragment was translated, copied into the
    /// worker's hold (not lost: counted here because the received buffer is given back). It leaves
    /// as `fragments_released` or `drop_fragment_hold_expired`.
    case fragmentHeld
    /// A later fragment that arrived before its first fragment when the hold had no free slot (or the
    /// frame was larger than a slot).
    case fragmentHoldFull
    /// A held fragment whose first fragment was not translated within the hold time.
    case fragmentHoldExpired
    /// A first fragment whose datagram could not be recorded: the fragment table's probe window was
    /// full of live entries, so its later fragments could not follow it.
    case fragmentTableFull
    /// A TCP first fragment of a connection whose translation may change the segment's length or hold
    /// it (TOA option or PROXY header insertion pending, SYN proxy): its later fragments could not follow.
    case fragmentRewriteUnsupported
}
