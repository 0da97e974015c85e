// What the first fragment of a datagram got when the data plane translated it, and so what every
// later fragment of the datagram must get: new addresses and identification, the direction (to
// check the side a later fragment arrives on) and the connection's service and real server (for the
// per-server counters). The fragment table (FragmentTable.swift) keeps one per datagram.

import SluicePacket

/// The rewrite of a fragmented datagram, shared by all its fragments.
public struct FragmentRewrite: Equatable, Sendable {
    /// The translated source address (LIP inbound, VIP outbound).
    public var source: IPAddress
    /// The translated destination address (real server inbound, client outbound).
    public var destination: IPAddress
    /// The identification the translated fragments carry (16 bits used in IPv4).
    public var identification: UInt32
    /// Inbound (client → real server) or outbound.
    public var direction: FlowDirection
    /// The connection's service and real server indexes, as in the configuration.
    public var service: UInt16
    public var server: UInt16

    @inlinable
    public init(
        source: IPAddress, destination: IPAddress, identification: UInt32, direction: FlowDirection,
        service: UInt16 = 0, server: UInt16 = 0
    ) {
        self.source = source
        self.destination = destination
        self.identification = identification
        self.direction = direction
        self.service = service
        self.server = server
    }
}
