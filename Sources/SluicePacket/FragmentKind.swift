// Where a packet stands in its datagram's fragmentation (RFC 791 §3.2, RFC 8200 §4.5): the parser
// reports it so that the data plane can forward fragments (docs/protocol.md §3 "Fragments"). Only the
// first fragment carries the transport header, so it is the one that finds the connection; the
// later ones are matched to it by the datagram's identification.

/// A packet's place in a fragmented datagram, as the parser found it.
public enum FragmentKind: UInt8, Sendable, Equatable {
    /// Not a fragment: no MF flag and offset 0 (IPv4), no fragment header or an atomic one (IPv6,
    /// RFC 6946).
    case whole = 0
    /// The first fragment (offset 0, more to come): it holds the whole transport header.
    case first
    /// A fragment at a non-zero offset: transport payload only, no ports.
    case later
}
