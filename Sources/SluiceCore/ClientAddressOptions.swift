// Per-service settings of the client-address modes (docs/protocol.md §6–7). They live beside
// `ClientAddressMode` rather than inside it so that a service's mode stays a plain enum for the
// config vocabulary, and the data plane reads all of them from one small value per service.

/// How the client's address is handed to the real server, beyond the mode itself.
public struct ClientAddressOptions: Sendable, Hashable {
    /// TCP option kind of TOA. 254 is what toa.ko and dpvs use; some forks use 253.
    public var toaKind: UInt8
    /// PROXY v2: add a UNIQUE_ID TLV carrying the connection's id (8 bytes).
    public var uniqueID: Bool
    /// PROXY v2: add a CRC32C TLV over the header.
    public var crc32c: Bool
    /// PROXY v1/v2: send the header as soon as the backend handshake completes, retransmitting it
    /// until the real server acknowledges it, instead of in front of the client's first data.
    /// Needed for server-first protocols (SMTP, SSH, MySQL, POP, IMAP), where the client sends
    /// nothing until it has the server's greeting.
    public var sendOnConnect: Bool
    /// PROXY v1/v2: when the client's stream already starts with a PROXY header, forward it as it is
    /// instead of inserting ours (a cascade of balancers). Off by default: a client-sent header is
    /// never trusted, ours always comes first.
    public var passthrough: Bool

    /// The default kind of the TOA option.
    public static let defaultTOAKind: UInt8 = 254

    public init(
        toaKind: UInt8 = ClientAddressOptions.defaultTOAKind, uniqueID: Bool = false, crc32c: Bool = false,
        sendOnConnect: Bool = false, passthrough: Bool = false
    ) {
        self.toaKind = toaKind
        self.uniqueID = uniqueID
        self.crc32c = crc32c
        self.sendOnConnect = sendOnConnect
        self.passthrough = passthrough
    }
}
