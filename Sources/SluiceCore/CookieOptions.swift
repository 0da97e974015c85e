// The client SYN options a SYN cookie carries (docs/protocol.md §1), and the per-family MSS tables.
//
// Eight cookie bits hold them: a 3-bit MSS index, a 4-bit window-scale field and the SACK-permitted
// bit. Window scale keeps "option absent" (field 15) apart from "shift 0" (field 0), because they
// differ for the RS leg: absent means neither side scales, shift 0 means the client scales by 1 but
// accepts our shift (docs/protocol.md pitfall 4; Linux uses the same 0xF marker in its TS-encoded form).
// Timestamps are not encoded: the client's ACK carries a TS option exactly when it negotiated
// timestamps (as Linux's `cookie_timestamp_decode` infers it), so the caller reads that off the ACK.
//
// MSS tables (MSS = path MTU − 40 for IPv4, − 60 for IPv6). The cookie keeps the largest entry not
// above the client's MSS, so the RS never sends a segment larger than the client can take; the
// entries sit at the MTUs seen in practice so that rounding down costs little:
//   IPv4: 536 (RFC 9293 §3.7.1 default when the option is absent: 576 − 40), 1200 (paths of
//         1240–1299 MTU: nested tunnels, some mobile carriers), 1300 (Linux's table; ~1340 MTU),
//         1360 (IPsec ESP tunnel mode, the usual `adjust-mss 1360`), 1400 (common VPN clamp),
//         1440 (IPIP / 6in4 / GRE-ish 1480 MTU), 1452 (PPPoE, 1492 MTU), 1460 (Ethernet, 1500).
//   IPv6: 1220 (RFC 8200 §5 minimum MTU 1280 − 60, also the default when the option is absent),
//         1280 (1340 MTU), 1340 (1400 MTU: VPN clamps), 1380 (1440 MTU: WireGuard over IPv4 and
//         similar), 1420 (1480 MTU: 6in4/SIT, Linux's table), 1432 (PPPoE), 1440 (Ethernet),
//         8940 (9000-byte jumbo frames, Linux's table).
// IPv4 has no jumbo entry (as Linux): an IPv4 jumbo client is rounded to 1460, which still works.
// The tables are switches rather than arrays so a lookup is a few compares, with no global
// initialisation check and no reference counting on the hot path.

import SluicePacket

/// Client SYN options carried in a SYN cookie.
public struct CookieOptions: Sendable, Equatable {
    /// The MSS. From `SynCookie.check` it is the decoded table value (the largest entry not above
    /// the client's MSS). Given to `SynCookie.make` it is the client's MSS (0 when the option is
    /// absent), rounded down to the table there.
    public var mss: UInt16
    /// The client's window-scale shift (clamped to 14, RFC 7323 §2.3), or nil when its SYN had no
    /// window-scale option. Shift 0 and "absent" are different (docs/protocol.md pitfall 4).
    public var windowScale: UInt8?
    /// The client's SYN carried SACK-permitted (RFC 2018).
    public var sackPermitted: Bool

    /// Options with the given values.
    @inlinable
    public init(mss: UInt16, windowScale: UInt8?, sackPermitted: Bool) {
        self.mss = mss
        self.windowScale = windowScale
        self.sackPermitted = sackPermitted
    }

    /// The options of a parsed client SYN: MSS (0 when absent), window scale (nil when absent) and
    /// SACK-permitted, read at the offsets in `info.tcpOptions`. An offset outside the frame counts
    /// as absent, so a stale `info` cannot make this trap.
    @inlinable
    public init(syn frame: Span<UInt8>, info: PacketInfo) {
        let summary = info.tcpOptions
        let mssOffset = summary.mssOffset
        mss = mssOffset >= 0 && mssOffset + 2 <= frame.count ? frame.u16(mssOffset) : 0
        let wsOffset = summary.windowScaleOffset
        windowScale = wsOffset >= 0 && wsOffset < frame.count ? frame[wsOffset] : nil
        sackPermitted = summary.sackPermittedOffset >= 0
    }

    /// Number of entries in each MSS table (the index has 3 bits).
    public static let mssTableCount = 8

    /// Entry `index` (0..<8, masked) of the IPv4 or IPv6 MSS table.
    @inlinable
    public static func mssValue(index: Int, v6: Bool) -> UInt16 {
        if v6 {
            switch index & 7 {
            case 0: return 1220
            case 1: return 1280
            case 2: return 1340
            case 3: return 1380
            case 4: return 1420
            case 5: return 1432
            case 6: return 1440
            default: return 8940
            }
        }
        switch index & 7 {
        case 0: return 536
        case 1: return 1200
        case 2: return 1300
        case 3: return 1360
        case 4: return 1400
        case 5: return 1440
        case 6: return 1452
        default: return 1460
        }
    }

    /// The table index for a client MSS: the largest entry not above `clientMSS`; 0 (536 or 1220)
    /// when it is smaller than every entry or absent (nil or 0).
    @inlinable
    public static func encodeMSS(_ clientMSS: UInt16?, v6: Bool) -> Int {
        guard let clientMSS else { return 0 }
        var index = mssTableCount &- 1
        while index > 0 {
            if mssValue(index: index, v6: v6) <= clientMSS { return index }
            index &-= 1
        }
        return 0
    }

    /// The 8 data bits of a cookie: MSS index (bits 7–5), window-scale field (bits 4–1: the shift
    /// 0–14, or 15 for "absent") and SACK-permitted (bit 0).
    @inlinable
    func encoded(v6: Bool) -> UInt32 {
        let index = UInt32(truncatingIfNeeded: Self.encodeMSS(mss, v6: v6))
        var ws: UInt32 = 15
        if let shift = windowScale { ws = UInt32(min(shift, 14)) }
        return index &<< 5 | ws &<< 1 | (sackPermitted ? 1 : 0)
    }

    /// Options from the 8 data bits of a cookie (every bit pattern is valid).
    @inlinable
    init(data: UInt32, v6: Bool) {
        mss = Self.mssValue(index: Int(truncatingIfNeeded: (data &>> 5) & 7), v6: v6)
        let ws = UInt8(truncatingIfNeeded: (data &>> 1) & 0xF)
        windowScale = ws == 15 ? nil : ws
        sackPermitted = data & 1 != 0
    }
}
