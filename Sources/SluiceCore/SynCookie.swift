// Stateless SYN cookies for SYNPROXY (docs/protocol.md §1; RFC 4987 §3.6).
//
// The cookie is the server ISN of the SYN-ACK that answers a client SYN without keeping state. The
// client's ACK returns it as ack − 1 (with its own ISN as seq − 1), and only then does the gateway
// create a connection. Layout, most significant bit first:
//
//   31–30  count mod 4, where count = nowMilliseconds / 60 000 (a minute counter, as Linux)
//   29–22  data: MSS index (3 bits) | window-scale field (4 bits, 15 = absent) | SACK-permitted
//   21–0   the low 22 bits of SipHash-2-4(key; source address, destination address (all 128 bits
//          of IPv6), source port, destination port, client ISN, the FULL count, data, family)
//
// Why this shape rather than Linux's or dpvs's (docs/protocol.md §1.2, §1.3, pitfall 9):
// - Options travel in the ISN, not in TCP timestamps, so clients without timestamps keep window
//   scaling and SACK (Linux loses them). The data bits are hashed, so they cannot be altered, and
//   every bit pattern decodes to valid options: no check bits are wasted on integrity (dpvs keeps
//   ~12 weak ones and forgets two bits).
// - The full count is hashed, so the 2 visible counter bits only select which count to try; a
//   cookie replayed four minutes later recomputes a different hash. Accepted counts are now's and
//   the previous minute's, so a cookie lives between 60 and 120 s depending on when in its minute it
//   was made (Linux: `MAX_SYNCOOKIE_AGE` 2, the same bound).
// - The client ISN is hashed instead of added (Linux adds it): same strength, simpler check.
// - SipHash-2-4 with a full 128-bit secret (pitfall 9: dpvs's IPv4 MD5 cookie has 32 key bits).
//   IPv4 tuples hash 3 message words (both addresses share one word), IPv6 tuples 6, and the family
//   is part of the last word so the two never collide.
//
// Keys: one 128-bit key per generation; `rotate(newKey:)` makes the current key the previous one,
// and `check` tries the current key, then the previous. A cookie made just before a rotation must
// stay checkable for its whole 120 s validity, so the caller rotates at most once per 120 s;
// rotating twice inside that window invalidates the older cookies early (they are then just
// refused: the client retransmits its SYN).
//
// Forgery: a blind ACK with random ack/seq is accepted when its counter bits are one of the two
// accepted values (probability 2/4) and then its 22 hash bits match under one of the (at most) two
// keys (2 · 2^-22): (2/4) · 2 · 2^-22 = 2^-22 ≈ 2.4 · 10^-7 per ACK: ~8 times below dpvs (≈ 2 · 10^-6)
// and ~120 times above Linux (≈ 2 · 10^-9, whose field carries only the MSS). An attacker needs
// about 4 million ACKs per accepted forgery, and an accepted one only costs a connection slot
// and an RS SYN, as a real handshake would.
//
// Pure and allocation-free: keys are four words, the per-family MSS tables are switches.

import SluicePacket

/// SYN-cookie generator and checker (SipHash-2-4, minute counter, current and previous key).
///
/// A cookie is the 32-bit server ISN: bits 31–30 are the minute counter mod 4, bits 29–22 carry the
/// client's MSS index, window scale (15 = absent) and SACK-permitted bit, and bits 21–0 are a keyed
/// SipHash-2-4 over the 4-tuple, client ISN, full minute counter and those data bits. A cookie is
/// accepted 60–120 s after it was made (its minute and the next). The probability that a blind ACK
/// with random numbers is accepted is (2/4) · 2 · 2^-22 = 2^-22 ≈ 2.4 · 10^-7.
public struct SynCookie: Sendable {
    /// Length of one counter tick: the counter is `nowMilliseconds / 60 000`.
    public static let counterPeriodMilliseconds: UInt64 = 60_000
    /// The longest a cookie is accepted: made at the start of a minute, it still checks until the
    /// end of the next one.
    public static let maximumAgeMilliseconds: UInt64 = 120_000
    /// Mask of the hash bits (21–0).
    public static let hashMask: UInt32 = 0x003F_FFFF

    @usableFromInline var k0: UInt64
    @usableFromInline var k1: UInt64
    @usableFromInline var p0: UInt64
    @usableFromInline var p1: UInt64
    @usableFromInline var hasPrevious: Bool

    /// A cookie generator with the 128-bit SipHash key `key` (bytes 0–7, 8–15 little-endian), and
    /// optionally the key of the previous generation, still accepted by `check`.
    @inlinable
    public init(key: (UInt64, UInt64), previousKey: (UInt64, UInt64)? = nil) {
        k0 = key.0
        k1 = key.1
        if let previousKey {
            p0 = previousKey.0
            p1 = previousKey.1
            hasPrevious = true
        } else {
            p0 = 0
            p1 = 0
            hasPrevious = false
        }
    }

    /// The key new cookies are made with.
    public var key: (UInt64, UInt64) { (k0, k1) }

    /// The previous generation's key, still accepted by `check`; nil before the first rotation.
    public var previousKey: (UInt64, UInt64)? { hasPrevious ? (p0, p1) : nil }

    /// Starts a new key generation: `newKey` makes cookies from now on, the current key is kept as
    /// the previous one (still accepted) and the previous one is forgotten. Call at most once per
    /// `maximumAgeMilliseconds`, or valid cookies made before the last-but-one rotation are refused.
    @inlinable
    public mutating func rotate(newKey: (UInt64, UInt64)) {
        p0 = k0
        p1 = k1
        hasPrevious = true
        k0 = newKey.0
        k1 = newKey.1
    }

    /// The cookie (server ISN) for a client SYN from `source`:`sourcePort` to
    /// `destination`:`destinationPort` with sequence number `clientISN`.
    /// - Parameters:
    ///   - options: the client's SYN options; `options.mss` is the client's MSS (0 when absent) and
    ///     is rounded down to the family's MSS table, a window scale above 14 is stored as 14.
    ///   - nowMilliseconds: the caller's monotonic clock.
    @inlinable
    public func make(
        source: IPAddress, destination: IPAddress, sourcePort: UInt16, destinationPort: UInt16, clientISN: UInt32,
        options: CookieOptions, nowMilliseconds: UInt64
    ) -> UInt32 {
        let count = nowMilliseconds / Self.counterPeriodMilliseconds
        let data = options.encoded(v6: source.isV6)
        let h = Self.hash(
            k0: k0, k1: k1, source: source, destination: destination, sourcePort: sourcePort,
            destinationPort: destinationPort, clientISN: clientISN, count: count, data: data)
        return UInt32(truncatingIfNeeded: count & 3) &<< 30 | data &<< 22 | h
    }

    /// Checks a cookie returned by the client's ACK (`cookie` = ACK.ack − 1, `clientISN` = ACK.seq −
    /// 1, both wrapping), with the tuple as the ACK carries it (client → service, as for `make`).
    /// - Returns: the options the cookie carries (MSS as the decoded table value), or nil when the
    ///   cookie is older than the previous minute, from the future, or does not verify under the
    ///   current or the previous key.
    @inlinable
    public func check(
        cookie: UInt32, source: IPAddress, destination: IPAddress, sourcePort: UInt16, destinationPort: UInt16,
        clientISN: UInt32, nowMilliseconds: UInt64
    ) -> CookieOptions? {
        let now = nowMilliseconds / Self.counterPeriodMilliseconds
        let field = UInt64(cookie &>> 30)
        let count: UInt64
        if field == now & 3 {
            count = now
        } else if now > 0 && field == (now &- 1) & 3 {
            count = now &- 1
        } else {
            return nil
        }
        let data = (cookie &>> 22) & 0xFF
        let expected = cookie & Self.hashMask
        let current = Self.hash(
            k0: k0, k1: k1, source: source, destination: destination, sourcePort: sourcePort,
            destinationPort: destinationPort, clientISN: clientISN, count: count, data: data)
        if current != expected {
            guard hasPrevious else { return nil }
            let previous = Self.hash(
                k0: p0, k1: p1, source: source, destination: destination, sourcePort: sourcePort,
                destinationPort: destinationPort, clientISN: clientISN, count: count, data: data)
            guard previous == expected else { return nil }
        }
        return CookieOptions(data: data, v6: source.isV6)
    }

    /// The 22 hash bits of a cookie. The last message word holds the full count (its top 16 bits
    /// are dropped only after 2^48 minutes), the data bits and the two family bits.
    @inlinable
    static func hash(
        k0: UInt64, k1: UInt64, source: IPAddress, destination: IPAddress, sourcePort: UInt16,
        destinationPort: UInt16, clientISN: UInt32, count: UInt64, data: UInt32
    ) -> UInt32 {
        let ports = UInt64(sourcePort) &<< 48 | UInt64(destinationPort) &<< 32 | UInt64(clientISN)
        let family: UInt64 = (source.isV6 ? 1 : 0) | (destination.isV6 ? 2 : 0)
        let last = count &<< 16 | UInt64(data & 0xFF) &<< 8 | family
        let h: UInt64
        if family == 0 {
            let addresses = UInt64(source.v4) &<< 32 | UInt64(destination.v4)
            h = SipHash24.hash(k0: k0, k1: k1, addresses, ports, last)
        } else {
            var s = SipHash24(k0: k0, k1: k1)
            s.combine(source.high)
            s.combine(source.low)
            s.combine(destination.high)
            s.combine(destination.low)
            s.combine(ports)
            s.combine(last)
            h = s.finalize()
        }
        return UInt32(truncatingIfNeeded: h) & hashMask
    }
}
