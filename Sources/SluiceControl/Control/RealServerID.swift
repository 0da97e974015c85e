// How the control plane names one real server: its virtual server and its address and port. The
// same server address may serve several virtual servers and is checked and weighted per service.

import SluicePacket

/// A real server of one virtual server.
public struct RealServerID: Sendable, Hashable, CustomStringConvertible {
    /// The virtual server's name.
    public var service: String
    public var address: IPAddress
    public var port: UInt16

    public init(service: String, address: IPAddress, port: UInt16) {
        self.service = service
        self.address = address
        self.port = port
    }

    /// `10.30.0.12:8080` or `[2001:db8::12]:8080`, ipvsadm's way.
    public var endpoint: String { ConfigurationVocabulary.endpoint(address, port) }

    public var description: String { "\(service) \(endpoint)" }
}
