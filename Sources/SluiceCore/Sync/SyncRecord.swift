// One connection as connection sync carries it between gateways (docs/sync.md): everything a peer
// needs to translate the connection's next frame exactly as this gateway would — both tuples, the
// LIP and local port, sequence deltas, timestamp offsets, the SYN-proxy and client-address state —
// and how long it may stay idle. Indexes into the sender's service table are not carried: the
// receiver finds its own service by VIP, port and protocol.

import SluicePacket

/// A connection event for the peers.
public struct SyncRecord: Sendable, Equatable {
    public var kind: SyncEventKind
    /// The entry; its `serviceIndex`, `realServerIndex` and `expiry` mean nothing to a peer.
    public var connection: Connection
    /// Milliseconds the entry may stay idle from the moment the record was made.
    public var idleMilliseconds: UInt32

    public init(kind: SyncEventKind, connection: Connection, idleMilliseconds: UInt32) {
        self.kind = kind
        self.connection = connection
        self.idleMilliseconds = idleMilliseconds
    }

    /// Bytes of one encoded record.
    public static let encodedSize = 112
    static let ipv4Family: UInt8 = 4
    static let ipv6Family: UInt8 = 6

    /// Appends the record's `encodedSize` bytes (network byte order).
    public func encode(into out: inout [UInt8]) {
        let c = connection
        let start = out.count
        out.append(kind.rawValue)
        out.append(c.transport)
        out.append(c.state.rawValue)
        out.append(c.client.isV6 ? Self.ipv6Family : Self.ipv4Family)
        Self.put16(c.flags, &out)
        Self.put16(c.clientMSS, &out)
        Self.put(c.client, c.clientPort, &out)
        Self.put(c.vip, c.vport, &out)
        Self.put(c.local, c.localPort, &out)
        Self.put(c.real, c.realPort, &out)
        Self.put32(c.seqDelta, &out)
        Self.put32(c.ackDelta, &out)
        Self.put32(c.aux0, &out)
        Self.put32(c.aux1, &out)
        Self.put32(c.clientAck, &out)
        Self.put32(c.serverAck, &out)
        Self.put32(idleMilliseconds, &out)
        out.append(c.synProxyNibbles)
        Self.put16(c.repeatFingerprint, &out)
        while out.count < start + Self.encodedSize { out.append(0) }
    }

    /// Reads a record from `bytes` at `offset`; nil when it does not make sense (unknown kind, state or
    /// family, a protocol other than TCP and UDP).
    public static func decode(_ bytes: [UInt8], at offset: Int) -> SyncRecord? {
        guard offset >= 0, offset + encodedSize <= bytes.count else { return nil }
        var r = Reader(bytes: bytes, position: offset)
        guard let kind = SyncEventKind(rawValue: r.u8()) else { return nil }
        let transport = r.u8()
        guard transport == TransportProtocol.tcp.rawValue || transport == TransportProtocol.udp.rawValue,
            let state = ConnectionState(rawValue: r.u8())
        else { return nil }
        let family = r.u8()
        guard family == ipv4Family || family == ipv6Family else { return nil }
        let v6 = family == ipv6Family
        let flags = r.u16()
        let mss = r.u16()
        var endpoints: [(IPAddress, UInt16)] = []
        for _ in 0..<4 {
            let high = r.u64()
            let low = r.u64()
            let port = r.u16()
            if !v6 && (high != 0 || low > UInt64(UInt32.max)) { return nil }
            endpoints.append((v6 ? IPAddress(v6High: high, low: low) : IPAddress(v4: UInt32(low)), port))
        }
        var c = Connection(
            client: endpoints[0].0, clientPort: endpoints[0].1, vip: endpoints[1].0, vport: endpoints[1].1,
            local: endpoints[2].0, localPort: endpoints[2].1, real: endpoints[3].0, realPort: endpoints[3].1,
            transport: transport, state: state, serviceIndex: 0, realServerIndex: 0, expiresAt: 0,
            seqDelta: r.u32(), ackDelta: r.u32(), flags: flags, clientMSS: mss)
        c.aux0 = r.u32()
        c.aux1 = r.u32()
        c.clientAck = r.u32()
        c.serverAck = r.u32()
        let idle = r.u32()
        c.synProxyNibbles = r.u8()
        c.repeatFingerprint = r.u16()
        return SyncRecord(kind: kind, connection: c, idleMilliseconds: idle)
    }

    static func put(_ address: IPAddress, _ port: UInt16, _ out: inout [UInt8]) {
        put64(address.high, &out)
        put64(address.low, &out)
        put16(port, &out)
    }

    static func put16(_ v: UInt16, _ out: inout [UInt8]) {
        out.append(UInt8(v >> 8))
        out.append(UInt8(truncatingIfNeeded: v))
    }

    static func put32(_ v: UInt32, _ out: inout [UInt8]) {
        put16(UInt16(v >> 16), &out)
        put16(UInt16(truncatingIfNeeded: v), &out)
    }

    static func put64(_ v: UInt64, _ out: inout [UInt8]) {
        put32(UInt32(v >> 32), &out)
        put32(UInt32(truncatingIfNeeded: v), &out)
    }

    /// Big-endian reads from a range already checked to be long enough.
    struct Reader {
        let bytes: [UInt8]
        var position: Int

        mutating func u8() -> UInt8 {
            defer { position += 1 }
            return bytes[position]
        }

        mutating func u16() -> UInt16 { UInt16(u8()) << 8 | UInt16(u8()) }
        mutating func u32() -> UInt32 { UInt32(u16()) << 16 | UInt32(u16()) }
        mutating func u64() -> UInt64 { UInt64(u32()) << 32 | UInt64(u32()) }
    }
}
