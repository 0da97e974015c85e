// What the gateway itself puts into a stateless SYN-ACK (docs/protocol.md §2 S1); everything else comes
// from the client's SYN. Defaults follow the RFCs and docs/protocol.md: TTL 64 (RFC 1700's recommended
// default, as Linux), timestamps off (offering them requires translating TSval/TSecr on every
// segment of the connection, docs/protocol.md pitfalls 1 and 2), SACK on (dpvs's default; the blocks are
// translated by the data plane), window scale 7 (Linux's usual shift for its default receive
// buffer), MSS 1460 (IPv4 Ethernet; the SYN-ACK never announces more than the client's own MSS).

/// The gateway's side of a stateless SYN-ACK.
public struct SynAckParameters: Sendable, Equatable {
    /// Upper bound of the MSS option: the SYN-ACK announces min(client MSS or 536/1220, `mss`). The
    /// caller leaves room for TOA here when it inserts TOA.
    public var mss: UInt16
    /// Window-scale shift offered when the client's SYN had a window-scale option (clamped to 14,
    /// RFC 7323 §2.3).
    public var windowScale: UInt8
    /// Offer SACK-permitted when the client's SYN did (RFC 2018 §2).
    public var sack: Bool
    /// Offer timestamps when the client's SYN had them (RFC 7323 §3.2).
    public var timestamps: Bool
    /// TSval of the SYN-ACK (the caller's timestamp clock) when timestamps are offered.
    public var tsval: UInt32
    /// IPv4 TTL / IPv6 hop limit.
    public var ttl: UInt8
    /// The SYN-ACK's window in bytes (never scaled, RFC 7323 §2.2); nil echoes the client's SYN
    /// window, as dpvs does.
    public var window: UInt16?

    /// Parameters with the defaults described above.
    @inlinable
    public init(
        mss: UInt16 = 1460, windowScale: UInt8 = 7, sack: Bool = true, timestamps: Bool = false, tsval: UInt32 = 0,
        ttl: UInt8 = 64, window: UInt16? = nil
    ) {
        self.mss = mss
        self.windowScale = windowScale
        self.sack = sack
        self.timestamps = timestamps
        self.tsval = tsval
        self.ttl = ttl
        self.window = window
    }
}
