// SYNPROXY settings (docs/protocol.md §2), shared by every service with `syn_proxy: true`.
//
// Defaults, and why they differ from dpvs's:
// - MSS 1452 (IPv4) / 1432 (IPv6): the SYN-ACK's MSS bound, 1500 − 20 − 20 − 8 so that a TOA
//   option still fits (docs/protocol.md §3 "MSS clamping"); IPv6 headers are 20 bytes longer.
// - Window scale 7 (dpvs: 0, which caps windows at 64 KB, docs/protocol.md §2 "Window scaling"): the
//   RS leg gets the client's own shift and RS→client windows are rescaled, so scaling costs nothing.
// - SACK and timestamps on: SACK blocks and TSval/TSecr are translated on every segment, so the
//   RS leg negotiates both (dpvs strips TS, pitfalls 1–2).
// - 3 RS SYN retransmissions with exponential backoff from 1 s (RFC 6298 initial RTO), as
//   dpvs's `rs_syn_max_retry` and Linux's SYN backoff: sends at 0, 1, 3, 7 s, given up at 15 s.
// - 4 held client segments per pending connection (dpvs `max_ack_saved` 3 + the first ACK).
// - No RST for a bad cookie (alibaba): answering spoofed ACKs would reflect RSTs to the spoofed
//   sources; dpvs sends one (`rst_on_bad_cookie` enables it, rate-limited).
// - ACK-storm threshold 10 (dpvs `ack_storm_thresh`); 0 disables the check. The repeat counter is
//   a nibble of the connection entry, so the threshold is at most 15.
// - SYNs answered in XDP: the steering program sends the cookie SYN-ACK itself (XDP_TX), the same
//   bytes the data plane would, so a flood never reaches user space (SluiceXDP decides where that
//   can work; the data plane still answers what XDP leaves to it).

/// SYNPROXY settings of a data plane.
public struct SynProxyConfiguration: Sendable, Hashable {
    /// Upper bound of the MSS option in IPv4 SYN-ACKs.
    public var mss: UInt16
    /// Upper bound of the MSS option in IPv6 SYN-ACKs.
    public var mssIPv6: UInt16
    /// Window-scale shift offered to clients that offer window scaling (0–14).
    public var windowScale: UInt8
    /// Offer SACK-permitted to clients that offer it.
    public var sack: Bool
    /// Offer timestamps to clients that offer them.
    public var timestamps: Bool
    /// SYN retransmissions towards a silent real server (0–7).
    public var retries: Int
    /// Client segments held per connection while the RS handshake is pending (1–16).
    public var queueLength: Int
    /// Answer an ACK whose cookie does not verify with a RST (rate-limited).
    public var resetOnBadCookie: Bool
    /// Identical pure ACKs from the real server tolerated in a row before they are dropped (0 = off,
    /// at most 15).
    public var ackStormThreshold: Int
    /// Wait before the first RS SYN retransmission, in milliseconds; doubled for each next one.
    public var retransmitMilliseconds: UInt64
    /// Held-segment slots per worker (2 KiB each); 0 derives it from the connection capacity
    /// (capacity / 8, between 64 and 4096).
    public var heldSegmentSlots: Int
    /// Answer client SYNs in the XDP steering program rather than in the workers, where the runtime
    /// can (`synproxy.answer_in_xdp`).
    public var answerInXDP: Bool
    /// `syn_proxy: auto`: half-open connections of one service (per worker) at which its SYNs start to
    /// be answered with cookies; it stops at half of this.
    public var autoHalfOpen: Int

    /// The default of `autoHalfOpen`: Linux's default SYN backlog (tcp_max_syn_backlog) per worker.
    public static let defaultAutoHalfOpen = 1024

    /// The largest accepted `retries`.
    public static let maximumRetries = 7
    /// The largest accepted `queueLength`.
    public static let maximumQueueLength = 16
    /// The largest accepted `ackStormThreshold`.
    public static let maximumAckStormThreshold = 15

    /// Settings with the defaults described in the file comment.
    public init(
        mss: UInt16 = 1452, mssIPv6: UInt16 = 1432, windowScale: UInt8 = 7, sack: Bool = true,
        timestamps: Bool = true, retries: Int = 3, queueLength: Int = 4, resetOnBadCookie: Bool = false,
        ackStormThreshold: Int = 10, retransmitMilliseconds: UInt64 = 1000, heldSegmentSlots: Int = 0,
        answerInXDP: Bool = true, autoHalfOpen: Int = SynProxyConfiguration.defaultAutoHalfOpen
    ) {
        self.autoHalfOpen = autoHalfOpen
        self.mss = mss
        self.mssIPv6 = mssIPv6
        self.windowScale = windowScale
        self.sack = sack
        self.timestamps = timestamps
        self.retries = retries
        self.queueLength = queueLength
        self.resetOnBadCookie = resetOnBadCookie
        self.ackStormThreshold = ackStormThreshold
        self.retransmitMilliseconds = retransmitMilliseconds
        self.heldSegmentSlots = heldSegmentSlots
        self.answerInXDP = answerInXDP
    }

    /// The same settings with every value forced into its valid range (the control plane reports
    /// out-of-range values; the data plane never traps on them).
    public var clamped: SynProxyConfiguration {
        var c = self
        c.mss = max(c.mss, 536)
        c.mssIPv6 = max(c.mssIPv6, 1220)
        c.windowScale = min(c.windowScale, 14)
        c.retries = min(max(c.retries, 0), Self.maximumRetries)
        c.queueLength = min(max(c.queueLength, 1), Self.maximumQueueLength)
        c.ackStormThreshold = min(max(c.ackStormThreshold, 0), Self.maximumAckStormThreshold)
        c.retransmitMilliseconds = max(c.retransmitMilliseconds, 100)
        c.heldSegmentSlots = max(c.heldSegmentSlots, 0)
        return c
    }
}
