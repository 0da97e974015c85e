// What the first bytes of a stream say about a PROXY protocol header (haproxy
// doc/proxy-protocol.txt §2.2, "Identifying the protocol version"). Framing only: `detect` finds where
// a header ends; `parse` also checks its content.

/// The outcome of looking for a PROXY protocol header at the start of a byte stream.
public enum ProxyProtocolDetection: Sendable, Equatable {
    /// The bytes do not start like a PROXY header.
    case none
    /// The bytes are a proper prefix of a header: more are needed to decide.
    case incomplete
    /// The bytes start like a header but break the specification (wrong v2 version, a v1 line with a
    /// lone CR or LF, no CRLF in the first 107 bytes, or bad content found by `parse`): a receiver
    /// must abort the connection.
    case invalid
    /// A complete v1 line of `length` bytes, CRLF included.
    case v1(length: Int)
    /// A complete v2 header of `length` bytes (16 + its length field).
    case v2(length: Int)
}
