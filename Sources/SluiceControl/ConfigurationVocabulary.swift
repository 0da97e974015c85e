// The words the configuration file uses for SluiceCore's enums, in one place. SluiceCore names its
// cases for Swift (`synSent`); the file uses the IPVS/keepalived spellings (`syn_sent`, `tcp`), and
// the start-up log and `sluice check` print them the same way.

import SluiceCore
import SluicePacket

/// Spellings of protocols, connection states and endpoints in the configuration file and logs.
public enum ConfigurationVocabulary {
    /// `tcp` or `udp`.
    public static func name(of transport: TransportProtocol) -> String {
        switch transport {
        case .tcp: "tcp"
        case .udp: "udp"
        }
    }

    /// The transport protocol named `name`, if any.
    public static func transport(named name: String) -> TransportProtocol? {
        TransportProtocol.allCases.first { self.name(of: $0) == name }
    }

    /// The snake_case name of a connection state, as used under `dataplane.timeouts`
    /// (`synSent` → `syn_sent`).
    public static func name(of state: ConnectionState) -> String {
        var out = ""
        for character in String(describing: state) {
            if character.isUppercase {
                out += "_" + character.lowercased()
            } else {
                out.append(character)
            }
        }
        return out
    }

    /// The connection state named `name` (`syn_sent`), if any.
    public static func state(named name: String) -> ConnectionState? {
        ConnectionState.allCases.first { self.name(of: $0) == name }
    }

    /// `10.0.0.1:80` or `[2001:db8::1]:80`.
    public static func endpoint(_ address: IPAddress, _ port: UInt16) -> String {
        address.isV6 ? "[\(address)]:\(port)" : "\(address):\(port)"
    }

    /// `IPv4` or `IPv6`.
    public static func family(of address: IPAddress) -> String {
        address.isV6 ? "IPv6" : "IPv4"
    }
}
