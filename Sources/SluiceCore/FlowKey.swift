// The 5-tuple of a packet as it was received, used as a connection-table key. It is a plain value
// (two 17-byte addresses, two ports, a protocol number: 47 bytes, stride 48), trivially copyable,
// so building one per packet costs a few register moves and no allocation. Each connection is
// indexed under two keys (docs/protocol.md §5, dpvs `__dp_vs_conn_hash`): the client→VIP tuple of
// inbound packets and the RS→LIP tuple of replies; `reversed` gives the tuple an ICMP error quotes.

import SluicePacket

/// A transport flow as seen in one packet: source and destination address and port, protocol.
public struct FlowKey: Hashable, Sendable {
    public var source: IPAddress
    public var destination: IPAddress
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    /// IP protocol number (6 TCP, 17 UDP).
    public var transport: UInt8

    @inlinable
    public init(
        source: IPAddress, destination: IPAddress, sourcePort: UInt16, destinationPort: UInt16, transport: UInt8
    ) {
        self.source = source
        self.destination = destination
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.transport = transport
    }

    /// The same flow seen from the other end: addresses and ports swapped.
    @inlinable
    public var reversed: FlowKey {
        FlowKey(
            source: destination, destination: source, sourcePort: destinationPort, destinationPort: sourcePort,
            transport: transport)
    }
}
