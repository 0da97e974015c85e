// A parsed PROXY protocol header, as plain offsets and values (no copies of the bytes, no allocation).
// Filled by `ProxyProtocol.parse`, which Sluice uses in tests and, for services configured to pass a
// client's header through (LB cascading), to read what the client sent. Never trusted otherwise
// (docs/protocol.md §7, "Anti-spoofing").

/// The fields of a parsed PROXY protocol v1 or v2 header.
public struct ProxyProtocolHeader: Sendable, Equatable {
    /// 1 or 2; 0 when nothing was parsed.
    public var version: Int
    /// Total header length in bytes (v1: CRLF included; v2: 16 + the length field).
    public var length: Int
    /// v2 LOCAL command: the receiver must use the real connection endpoints.
    public var isLocal: Bool
    /// v2 byte 13 (family | transport). For v1: 0x11 for TCP4, 0x21 for TCP6, 0x00 for UNKNOWN.
    public var familyAndTransport: UInt8
    /// True when the header asks the receiver to use the addresses and ports below: a PROXY command
    /// with an INET or INET6 family and a STREAM or DGRAM transport, or a v1 TCP4/TCP6 line.
    public var carriesAddresses: Bool
    /// Source address (meaningful when `carriesAddresses`).
    public var source: IPAddress
    /// Destination address (meaningful when `carriesAddresses`).
    public var destination: IPAddress
    /// Source port (meaningful when `carriesAddresses`).
    public var sourcePort: UInt16
    /// Destination port (meaningful when `carriesAddresses`).
    public var destinationPort: UInt16
    /// Offset of the first UNIQUE_ID TLV's value in the parsed span; −1 when absent.
    public var uniqueIDOffset: Int
    /// Length of that value (0–128).
    public var uniqueIDLength: Int
    /// True when a CRC32C TLV was present; `parse` only succeeds if it verified.
    public var hasCRC32C: Bool

    /// An empty header (version 0).
    public init() {
        version = 0
        length = 0
        isLocal = false
        familyAndTransport = 0
        carriesAddresses = false
        source = IPAddress(v4: 0)
        destination = IPAddress(v4: 0)
        sourcePort = 0
        destinationPort = 0
        uniqueIDOffset = -1
        uniqueIDLength = 0
        hasCRC32C = false
    }
}
