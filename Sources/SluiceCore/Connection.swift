// One connection-table entry: everything FULLNAT needs to rewrite a packet in either direction
// without looking anything else up (docs/protocol.md §3, §5). It is a plain value stored inline in the
// table's preallocated array, so it holds no references and no variable-length data.
//
// Size: 128 bytes (stride 128), i.e. two cache lines. Swift lays fields out in declaration order
// and lets a field use the tail padding of the one before it; each 17-byte IPAddress is followed by
// its 2-byte port at offset +18, and the narrow fields are grouped before the 4-byte and 8-byte
// ones. The SYNPROXY fields fill what would otherwise be padding: `synProxyNibbles` the byte at 17,
// `clientAck` bytes 44–47 (after vport), `serverAck` 68–71 (after localPort) and
// `repeatFingerprint` 102–103, so no byte is wasted. `ConnectionTableTests` pins the size.
//
// Sequence deltas are applied with wrapping arithmetic (`&+`/`&-`): sequence space is mod 2^32.

import SluicePacket

/// One FULLNAT connection: the client's tuple, the local (LIP) tuple towards the real server, the
/// translation state and the idle deadline.
public struct Connection: Sendable, Equatable {
    /// Client address (CIP).
    public var client: IPAddress
    /// SYNPROXY: the low nibble is the client's window-scale shift; the high nibble counts the RS
    /// SYN retransmissions while the RS handshake is pending, and afterwards the repeats seen by
    /// the ACK-storm check. Unused (0) in plain FULLNAT.
    public var synProxyNibbles: UInt8
    /// Client port (cport).
    public var clientPort: UInt16
    /// Virtual address the client connected to (VIP).
    public var vip: IPAddress
    /// Virtual port (vport).
    public var vport: UInt16
    /// SYNPROXY: the highest acknowledgement number the client sent, in the real server's sequence
    /// space (RFC 5961 check of the real server's RSTs). Unused (0) in plain FULLNAT.
    public var clientAck: UInt32
    /// Local address the gateway uses towards the real server (LIP).
    public var local: IPAddress
    /// Local port (lport) from this worker's slice of the LIP's port range.
    public var localPort: UInt16
    /// TCP: starts as the RS-leg ISN + 1, the first sequence number of the client's stream, which the
    /// client-address modes use while `connectionClientAddressPending` is set. SYNPROXY then tracks in
    /// it the highest acknowledgement number the real server sent (RFC 5961 check of the client's
    /// RSTs).
    public var serverAck: UInt32
    /// Real-server address (RIP).
    public var real: IPAddress
    /// Real-server port (rport).
    public var realPort: UInt16
    /// IP protocol number (6 TCP, 17 UDP).
    public var transport: UInt8
    /// IPVS-style state; drives the idle timeout.
    public var state: ConnectionState
    /// Index of the virtual service in the worker's service table.
    public var serviceIndex: UInt16
    /// Index of the real server within its virtual service.
    public var realServerIndex: UInt16
    /// Per-connection flag bits, defined by the data plane.
    public var flags: UInt16
    /// MSS the client announced in its SYN (0 if none).
    public var clientMSS: UInt16
    /// SYNPROXY: a 16-bit fingerprint of the real server's last pure ACK (ACK-storm check).
    public var repeatFingerprint: UInt16
    /// Added to client→RS sequence numbers: client seq &+ seqDelta = RS-leg seq (δfn, wrapping).
    public var seqDelta: UInt32
    /// SYNPROXY's δsp = cookie − ISN_rs: subtracted from client→RS acknowledgement numbers and added
    /// to RS→client sequence numbers (wrapping); 0 in plain FULLNAT. While the RS handshake is
    /// pending it holds the cookie itself.
    public var ackDelta: UInt32
    /// Timestamp offset: added to the client's TSval to map its clock onto the gateway's.
    public var aux0: UInt32
    /// SYNPROXY: our SYN-ACK's TSval while the RS handshake is pending, then the RS's timestamp
    /// offset (RS TSval − our SYN-ACK TSval), subtracted from RS TSvals and added to client TSecrs.
    public var aux1: UInt32
    /// Monotonic milliseconds after which the connection is idle-expired. Refreshed per packet by
    /// writing this field only; the timer wheel re-arms lazily (see `TimerWheel`).
    public var expiresAt: UInt64

    /// Creates an entry. Fields after `expiresAt` default to zero.
    @inlinable
    public init(
        client: IPAddress, clientPort: UInt16, vip: IPAddress, vport: UInt16, local: IPAddress, localPort: UInt16,
        real: IPAddress, realPort: UInt16, transport: UInt8, state: ConnectionState, serviceIndex: UInt16,
        realServerIndex: UInt16, expiresAt: UInt64, seqDelta: UInt32 = 0, ackDelta: UInt32 = 0, flags: UInt16 = 0,
        clientMSS: UInt16 = 0, aux0: UInt32 = 0, aux1: UInt32 = 0
    ) {
        self.client = client
        self.synProxyNibbles = 0
        self.clientAck = 0
        self.serverAck = 0
        self.repeatFingerprint = 0
        self.clientPort = clientPort
        self.vip = vip
        self.vport = vport
        self.local = local
        self.localPort = localPort
        self.real = real
        self.realPort = realPort
        self.transport = transport
        self.state = state
        self.serviceIndex = serviceIndex
        self.realServerIndex = realServerIndex
        self.flags = flags
        self.clientMSS = clientMSS
        self.seqDelta = seqDelta
        self.ackDelta = ackDelta
        self.aux0 = aux0
        self.aux1 = aux1
        self.expiresAt = expiresAt
    }

    /// An all-zero entry, used to fill unused table slots.
    @usableFromInline
    static let empty = Connection(
        client: IPAddress(v4: 0), clientPort: 0, vip: IPAddress(v4: 0), vport: 0, local: IPAddress(v4: 0),
        localPort: 0, real: IPAddress(v4: 0), realPort: 0, transport: 0, state: .none, serviceIndex: 0,
        realServerIndex: 0, expiresAt: 0)

    /// The tuple of client packets: CIP:cport → VIP:vport.
    @inlinable
    public var inboundKey: FlowKey {
        FlowKey(source: client, destination: vip, sourcePort: clientPort, destinationPort: vport, transport: transport)
    }

    /// The tuple of real-server replies: RIP:rport → LIP:lport.
    @inlinable
    public var outboundKey: FlowKey {
        FlowKey(
            source: real, destination: local, sourcePort: realPort, destinationPort: localPort, transport: transport)
    }

    /// The key of this entry that a packet travelling in `direction` carries.
    @inlinable
    public func key(_ direction: FlowDirection) -> FlowKey {
        direction == .inbound ? inboundKey : outboundKey
    }
}
