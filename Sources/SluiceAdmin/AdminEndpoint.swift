// ADDRESS:PORT as operators type it and the API carries it (IPv6 in brackets, `[fd00::1]:8080`),
// checked on the client so a typo is reported before anything is sent, and split into the address and
// port that listings and requests need.

/// An IP address and a port.
public struct AdminEndpoint: Sendable, Equatable {
    /// The address without brackets.
    public var address: String
    public var port: UInt16

    public init(address: String, port: UInt16) {
        self.address = address
        self.port = port
    }

    /// `10.0.0.1:80` or `[fd00::1]:80`; nil for anything else, a bare IPv6 address with a port included
    /// (`fd00::1:80` is ambiguous).
    public init?(parsing text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]),
            text[text.index(after: colon)...].allSatisfy({ $0.isASCII && $0.isNumber })
        else { return nil }
        let host = text[..<colon]
        if host.hasPrefix("[") && host.hasSuffix("]") {
            let inner = host.dropFirst().dropLast()
            guard EndpointOrder.ipv6Bytes(inner) != nil else { return nil }
            self.init(address: String(inner), port: port)
        } else {
            guard EndpointOrder.ipv4Bytes(host) != nil else { return nil }
            self.init(address: String(host), port: port)
        }
    }

    /// Whether `text` is an IPv4 or IPv6 address (no port, no brackets).
    public static func isAddress(_ text: String) -> Bool {
        EndpointOrder.ipv4Bytes(Substring(text)) != nil || EndpointOrder.ipv6Bytes(Substring(text)) != nil
    }

    /// The text form again, brackets around IPv6.
    public var text: String { IPVSListing.endpoint(address, port) }
}
