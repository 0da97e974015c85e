// One connection-table entry: everything FULLNAT needs to rewrite a packet in either direction
// without looking anything else up (docs/protocol.md §3, §5). It is a plain value stored inline in the
// table's preallocated array, so it holds no references and no variable-length data.
//
// Size: 111 bytes, stride 112 (ConnectionTableTests pins both). The entry is most of the memory a
// connection costs (docs/design.md "Connection table"), so it is packed by hand:
// - Addresses are stored as two 64-bit halves each (64 bytes for the four), without IPAddress's
//   family byte: one bit of `kind` says whether client and VIP are IPv6, another whether LIP and real
//   server are. A connection never mixes families within a side: a packet has one IP version, and a
//   LIP is always chosen of its real server's family (LocalAddressPool.search). `client`, `vip`,
//   `local` and `real` rebuild IPAddress values from these, so callers see the same properties.
// - The protocol number shares `kind` with the two family bits (TCP 6 and UDP 17 fit in its low 6).
// - The idle deadline is 32 bits (`expiry`, see "Expiry" below) instead of 64.
// - `clientMSS` is stored in `clientAck`: the MSS is needed only while a SYN-proxied connection waits
//   for its real server (to build the RS SYN and its retransmissions), and `clientAck` only after the
//   real server answered, when Dataplane+SynProxyServer.swift sets it (every reader of `clientAck` is
//   guarded by the pending flag or by ESTABLISHED; plain FULLNAT never reads `clientMSS`).
// Fields are declared widest first, so Swift's in-order layout leaves no padding but the last byte.
//
// Expiry: `expiry` holds the deadline in monotonic milliseconds modulo 2^32 and is compared with the
// clock by serial-number arithmetic (RFC 1982): a deadline up to 2^31 − 1 ms (24.8 days) ahead of or
// behind `now` reads correctly. Idle timeouts longer than that (a configuration allows up to 30 days)
// are clamped to `maximumIdleMilliseconds` where deadlines are set (Dataplane.timeout(for:service:),
// sync installs); the only effect is that such a connection, idle for 24.8 days, expires then.
//
// Sequence deltas are applied with wrapping arithmetic (`&+`/`&-`): sequence space is mod 2^32.

import SluicePacket

/// One FULLNAT connection: the client's tuple, the local (LIP) tuple towards the real server, the
/// translation state and the idle deadline.
public struct Connection: Sendable, Equatable {
    @usableFromInline var clientHigh: UInt64
    @usableFromInline var clientLow: UInt64
    @usableFromInline var vipHigh: UInt64
    @usableFromInline var vipLow: UInt64
    @usableFromInline var localHigh: UInt64
    @usableFromInline var localLow: UInt64
    @usableFromInline var realHigh: UInt64
    @usableFromInline var realLow: UInt64
    /// Client port (cport).
    public var clientPort: UInt16
    /// Virtual port (vport).
    public var vport: UInt16
    /// Local port (lport) from this worker's slice of the LIP's port range.
    public var localPort: UInt16
    /// Real-server port (rport).
    public var realPort: UInt16
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
    /// SYNPROXY: the highest acknowledgement number the client sent, in the real server's sequence
    /// space (RFC 5961 check of the real server's RSTs); plain FULLNAT: the last one. While a
    /// SYN-proxied connection waits for its real server it holds `clientMSS` instead.
    public var clientAck: UInt32
    /// TCP: starts as the RS-leg ISN + 1, the first sequence number of the client's stream, which the
    /// client-address modes use while `connectionClientAddressPending` is set. SYNPROXY then tracks in
    /// it the highest acknowledgement number the real server sent (RFC 5961 check of the client's
    /// RSTs).
    public var serverAck: UInt32
    /// The idle deadline: monotonic milliseconds modulo 2^32 (see "Expiry" above). Refreshed per
    /// packet by writing this field only; the timer wheel re-arms lazily (see `TimerWheel`).
    public var expiry: UInt32
    /// Index of the virtual service in the worker's service table.
    public var serviceIndex: UInt16
    /// Index of the real server within its virtual service.
    public var realServerIndex: UInt16
    /// Per-connection flag bits, defined by the data plane.
    public var flags: UInt16
    /// SYNPROXY: a 16-bit fingerprint of the real server's last pure ACK (ACK-storm check).
    public var repeatFingerprint: UInt16
    /// The protocol number (low 6 bits) and the two family bits (`outerV6`, `innerV6`).
    @usableFromInline var kind: UInt8
    /// IPVS-style state; drives the idle timeout.
    public var state: ConnectionState
    /// SYNPROXY: the low nibble is the client's window-scale shift; the high nibble counts the RS
    /// SYN retransmissions while the RS handshake is pending, and afterwards the repeats seen by
    /// the ACK-storm check. Unused (0) in plain FULLNAT.
    public var synProxyNibbles: UInt8

    /// `kind` bit: client and VIP are IPv6.
    @usableFromInline static var outerV6: UInt8 { 0x40 }
    /// `kind` bit: LIP and real server are IPv6.
    @usableFromInline static var innerV6: UInt8 { 0x80 }
    /// `kind` bits of the protocol number.
    @usableFromInline static var transportMask: UInt8 { 0x3F }

    /// The longest idle time a deadline can express (2^31 − 1 ms, 24.8 days; see "Expiry" above).
    public static let maximumIdleMilliseconds: UInt64 = (1 << 31) - 1

    /// Creates an entry. Fields after `expiresAt` default to zero. Client and VIP must be of one
    /// family, LIP and real server of one family.
    @inlinable
    public init(
        client: IPAddress, clientPort: UInt16, vip: IPAddress, vport: UInt16, local: IPAddress, localPort: UInt16,
        real: IPAddress, realPort: UInt16, transport: UInt8, state: ConnectionState, serviceIndex: UInt16,
        realServerIndex: UInt16, expiresAt: UInt64, seqDelta: UInt32 = 0, ackDelta: UInt32 = 0, flags: UInt16 = 0,
        clientMSS: UInt16 = 0, aux0: UInt32 = 0, aux1: UInt32 = 0
    ) {
        assert(client.isV6 == vip.isV6 && local.isV6 == real.isV6, "one address family per side")
        clientHigh = client.high
        clientLow = client.low
        vipHigh = vip.high
        vipLow = vip.low
        localHigh = local.high
        localLow = local.low
        realHigh = real.high
        realLow = real.low
        self.clientPort = clientPort
        self.vport = vport
        self.localPort = localPort
        self.realPort = realPort
        self.seqDelta = seqDelta
        self.ackDelta = ackDelta
        self.aux0 = aux0
        self.aux1 = aux1
        self.clientAck = UInt32(clientMSS)
        self.serverAck = 0
        self.expiry = UInt32(truncatingIfNeeded: expiresAt)
        self.serviceIndex = serviceIndex
        self.realServerIndex = realServerIndex
        self.flags = flags
        self.repeatFingerprint = 0
        self.kind = transport & Self.transportMask | (client.isV6 ? Self.outerV6 : 0) | (local.isV6 ? Self.innerV6 : 0)
        self.state = state
        self.synProxyNibbles = 0
    }

    /// An all-zero entry, used to fill unused table slots.
    @usableFromInline
    static let empty = Connection(
        client: IPAddress(v4: 0), clientPort: 0, vip: IPAddress(v4: 0), vport: 0, local: IPAddress(v4: 0),
        localPort: 0, real: IPAddress(v4: 0), realPort: 0, transport: 0, state: .none, serviceIndex: 0,
        realServerIndex: 0, expiresAt: 0)

    @inlinable @inline(__always)
    static func address(_ high: UInt64, _ low: UInt64, v6: Bool) -> IPAddress {
        var a = IPAddress(v4: 0)
        a.high = high
        a.low = low
        a.isV6 = v6
        return a
    }

    @inlinable @inline(__always)
    mutating func setFamily(_ bit: UInt8, v6: Bool) {
        kind = v6 ? kind | bit : kind & ~bit
    }

    /// Client address (CIP). Setting it also sets the family of the VIP.
    @inlinable
    public var client: IPAddress {
        get { Self.address(clientHigh, clientLow, v6: kind & Self.outerV6 != 0) }
        set {
            clientHigh = newValue.high
            clientLow = newValue.low
            setFamily(Self.outerV6, v6: newValue.isV6)
        }
    }

    /// Virtual address the client connected to (VIP). Setting it also sets the family of the client.
    @inlinable
    public var vip: IPAddress {
        get { Self.address(vipHigh, vipLow, v6: kind & Self.outerV6 != 0) }
        set {
            vipHigh = newValue.high
            vipLow = newValue.low
            setFamily(Self.outerV6, v6: newValue.isV6)
        }
    }

    /// Local address the gateway uses towards the real server (LIP). Setting it also sets the family
    /// of the real server.
    @inlinable
    public var local: IPAddress {
        get { Self.address(localHigh, localLow, v6: kind & Self.innerV6 != 0) }
        set {
            localHigh = newValue.high
            localLow = newValue.low
            setFamily(Self.innerV6, v6: newValue.isV6)
        }
    }

    /// Real-server address (RIP). Setting it also sets the family of the LIP.
    @inlinable
    public var real: IPAddress {
        get { Self.address(realHigh, realLow, v6: kind & Self.innerV6 != 0) }
        set {
            realHigh = newValue.high
            realLow = newValue.low
            setFamily(Self.innerV6, v6: newValue.isV6)
        }
    }

    /// IP protocol number (6 TCP, 17 UDP; below 64).
    @inlinable
    public var transport: UInt8 {
        get { kind & Self.transportMask }
        set { kind = kind & ~Self.transportMask | newValue & Self.transportMask }
    }

    /// SYNPROXY: the MSS the client announced in its SYN (0 if none), kept only while the RS
    /// handshake is pending (it shares its storage with `clientAck`, see the top of this file).
    @inlinable
    public var clientMSS: UInt16 {
        get { UInt16(truncatingIfNeeded: clientAck) }
        set { clientAck = UInt32(newValue) }
    }

    // MARK: Expiry

    /// Sets the idle deadline to `deadline` (monotonic milliseconds, at most
    /// `maximumIdleMilliseconds` from the current time).
    @inlinable @inline(__always)
    public mutating func expire(at deadline: UInt64) {
        expiry = UInt32(truncatingIfNeeded: deadline)
    }

    /// Milliseconds from `now` to the deadline: negative once it has passed.
    @inlinable @inline(__always)
    public func millisecondsLeft(at now: UInt64) -> Int64 {
        Int64(Int32(bitPattern: expiry &- UInt32(truncatingIfNeeded: now)))
    }

    /// True once `now` has reached the deadline.
    @inlinable @inline(__always)
    public func isExpired(at now: UInt64) -> Bool {
        Int32(bitPattern: expiry &- UInt32(truncatingIfNeeded: now)) <= 0
    }

    /// The deadline as a full monotonic time, for a clock reading `now` within 24.8 days of it.
    @inlinable @inline(__always)
    public func expiresAt(near now: UInt64) -> UInt64 {
        now &+ UInt64(bitPattern: millisecondsLeft(at: now))
    }

    /// Idle time left at `now`, 0 once the deadline has passed.
    @inlinable
    public func idleLeft(at now: UInt64) -> UInt64 {
        let left = millisecondsLeft(at: now)
        return left > 0 ? UInt64(left) : 0
    }

    // MARK: Keys

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
