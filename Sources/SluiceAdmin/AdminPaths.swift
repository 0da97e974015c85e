// The admin API's paths, shared by the daemon and `sluicectl` so the two cannot drift apart
// (docs/admin-api.yaml is the OpenAPI description of the same).

/// Paths and defaults of the admin API.
public enum AdminPaths {
    public static let defaultSocket = "/run/sluice/admin.sock"
    public static let services = "/v1/services"
    public static let connections = "/v1/connections"
    public static let localAddresses = "/v1/laddr"
    public static let counters = "/v1/counters"
    public static let reload = "/v1/reload"
    public static let explain = "/v1/explain"
    public static let health = "/v1/health"
    public static let announce = "/v1/announce"
    public static let sync = "/v1/sync"
    public static let drain = "/v1/drain"

    /// `/v1/services/NAME/servers/ADDRESS/PORT`, percent-encoded.
    public static func server(service: String, address: String, port: UInt16) -> String {
        "\(services)/\(encode(service))/servers/\(encode(address))/\(port)"
    }

    /// Percent-encodes everything but unreserved characters (RFC 3986 §2.3).
    public static func encode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            let c = Character(UnicodeScalar(byte))
            if c.isASCII && (c.isLetter || c.isNumber || "-._~".contains(c)) {
                out.append(c)
            } else {
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
