// What a connection's translated packets look like to the ip rules (RouteQuery): towards the real
// server they leave from the LIP and its port, towards the client from the VIP and the virtual port,
// as an LVS FULLNAT gateway's would.

import SluicePacket

extension Connection {
    /// The client → real server leg as it leaves Sluice.
    @inlinable
    public var routeToReal: RouteQuery {
        RouteQuery(source: local, transport: transport, sourcePort: localPort, destinationPort: realPort)
    }

    /// The real server → client leg as it leaves Sluice.
    @inlinable
    public var routeToClient: RouteQuery {
        RouteQuery(source: vip, transport: transport, sourcePort: vport, destinationPort: clientPort)
    }
}
