// Addresses as ipvsadm -n prints them: ADDRESS:PORT, an IPv6 address in brackets.

extension IPVSListing {
    /// `10.0.0.1:80`, `[fd00::1]:80`.
    public static func endpoint(_ address: String, _ port: UInt16) -> String {
        isIPv6(address) ? "[\(address)]:\(port)" : "\(address):\(port)"
    }

    /// The model carries addresses as text; only IPv6 text has a colon.
    static func isIPv6(_ address: String) -> Bool {
        address.contains(":")
    }

    /// `tcp` → `TCP`: ipvsadm names protocols in capitals.
    static func protocolName(_ name: String) -> String {
        name.uppercased()
    }
}
