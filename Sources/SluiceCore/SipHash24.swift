// SipHash-2-4 (Aumasson & Bernstein, "SipHash: a fast short-input PRF", 2012): a keyed 64-bit
// PRF over short inputs. Sluice uses it wherever an attacker picks the input and must not be able
// to predict the output: connection-table bucket choice (hash flooding) and the RFC 6528 ISN
// offset for the real-server leg (docs/protocol.md pitfall 5).
//
// Shape: a plain value with the four state words, a pending partial word and the byte length, so
// hashing a 5-tuple is a handful of register operations and no allocation. The incremental
// `combine` calls append bytes to the message exactly as the reference implementation reads them
// (little-endian 64-bit words, the final word carrying the length in its top byte), so the official
// test vectors apply. The fixed-arity `hash(k0:k1:_:...)` overloads hash whole 64-bit words only
// and skip the partial-word bookkeeping; a variadic form is deliberately absent because variadic
// arguments allocate an array.

/// SipHash-2-4 with a 128-bit key, fed incrementally.
public struct SipHash24: Sendable {
    @usableFromInline var v0: UInt64
    @usableFromInline var v1: UInt64
    @usableFromInline var v2: UInt64
    @usableFromInline var v3: UInt64
    /// Bytes of the current, incomplete 64-bit word, little-endian.
    @usableFromInline var tail: UInt64
    /// Number of valid bytes in `tail` (0..<8).
    @usableFromInline var tailCount: Int
    /// Total message length in bytes (only its low 8 bits enter the hash).
    @usableFromInline var length: Int

    /// Starts a hash with the key `k0` (key bytes 0–7, little-endian) and `k1` (bytes 8–15).
    @inlinable
    public init(k0: UInt64, k1: UInt64) {
        v0 = k0 ^ 0x736f_6d65_7073_6575
        v1 = k1 ^ 0x646f_7261_6e64_6f6d
        v2 = k0 ^ 0x6c79_6765_6e65_7261
        v3 = k1 ^ 0x7465_6462_7974_6573
        tail = 0
        tailCount = 0
        length = 0
    }

    @inlinable @inline(__always)
    static func rotl(_ x: UInt64, _ n: UInt64) -> UInt64 {
        (x &<< n) | (x &>> (64 &- n))
    }

    @inlinable @inline(__always)
    mutating func round() {
        v0 &+= v1
        v1 = Self.rotl(v1, 13)
        v1 ^= v0
        v0 = Self.rotl(v0, 32)
        v2 &+= v3
        v3 = Self.rotl(v3, 16)
        v3 ^= v2
        v0 &+= v3
        v3 = Self.rotl(v3, 21)
        v3 ^= v0
        v2 &+= v1
        v1 = Self.rotl(v1, 17)
        v1 ^= v2
        v2 = Self.rotl(v2, 32)
    }

    /// One message word: two compression rounds.
    @inlinable @inline(__always)
    mutating func compress(_ m: UInt64) {
        v3 ^= m
        round()
        round()
        v0 ^= m
    }

    /// Appends the low `count` bytes of `value` (1...8) to the message, little-endian.
    @inlinable
    mutating func append(_ value: UInt64, byteCount count: Int) {
        length &+= count
        if tailCount == 0 {
            if count == 8 {
                compress(value)
            } else {
                tail = value
                tailCount = count
            }
            return
        }
        let shift = UInt64(tailCount &* 8)
        tail |= value &<< shift
        let total = tailCount &+ count
        if total >= 8 {
            compress(tail)
            let consumed = UInt64(8 &- tailCount)
            // consumed is 1...7 here because tailCount > 0, so the shift is below 64.
            tail = value &>> (consumed &* 8)
            tailCount = total &- 8
            if tailCount == 0 { tail = 0 }
        } else {
            tailCount = total
        }
    }

    /// Appends 8 bytes: `v` in little-endian byte order.
    @inlinable
    public mutating func combine(_ v: UInt64) {
        append(v, byteCount: 8)
    }

    /// Appends 4 bytes: `v` in little-endian byte order.
    @inlinable
    public mutating func combine(_ v: UInt32) {
        append(UInt64(v), byteCount: 4)
    }

    /// Appends 2 bytes: `v` in little-endian byte order.
    @inlinable
    public mutating func combine(_ v: UInt16) {
        append(UInt64(v), byteCount: 2)
    }

    /// Appends one byte.
    @inlinable
    public mutating func combine(_ v: UInt8) {
        append(UInt64(v), byteCount: 1)
    }

    /// The 64-bit SipHash-2-4 of everything combined so far (the state is not consumed).
    @inlinable @inline(__always)
    public func finalize() -> UInt64 {
        var s = self
        // `tail` is zero whenever tailCount is 0, so it can be or-ed in unconditionally.
        let b = (UInt64(truncatingIfNeeded: length) &<< 56) | tail
        s.compress(b)
        s.v2 ^= 0xff
        s.round()
        s.round()
        s.round()
        s.round()
        return s.v0 ^ s.v1 ^ s.v2 ^ s.v3
    }
}

extension SipHash24 {
    /// SipHash-2-4 of one 64-bit word (8 message bytes).
    @inlinable
    public static func hash(k0: UInt64, k1: UInt64, _ a: UInt64) -> UInt64 {
        var h = SipHash24(k0: k0, k1: k1)
        h.compress(a)
        h.length = 8
        return h.finalize()
    }

    /// SipHash-2-4 of two 64-bit words (16 message bytes).
    @inlinable
    public static func hash(k0: UInt64, k1: UInt64, _ a: UInt64, _ b: UInt64) -> UInt64 {
        var h = SipHash24(k0: k0, k1: k1)
        h.compress(a)
        h.compress(b)
        h.length = 16
        return h.finalize()
    }

    /// SipHash-2-4 of three 64-bit words (24 message bytes).
    @inlinable
    public static func hash(k0: UInt64, k1: UInt64, _ a: UInt64, _ b: UInt64, _ c: UInt64) -> UInt64 {
        var h = SipHash24(k0: k0, k1: k1)
        h.compress(a)
        h.compress(b)
        h.compress(c)
        h.length = 24
        return h.finalize()
    }

    /// SipHash-2-4 of four 64-bit words (32 message bytes).
    @inlinable
    public static func hash(k0: UInt64, k1: UInt64, _ a: UInt64, _ b: UInt64, _ c: UInt64, _ d: UInt64) -> UInt64 {
        var h = SipHash24(k0: k0, k1: k1)
        h.compress(a)
        h.compress(b)
        h.compress(c)
        h.compress(d)
        h.length = 32
        return h.finalize()
    }

    /// SipHash-2-4 of five 64-bit words (40 message bytes).
    @inlinable
    public static func hash(
        k0: UInt64, k1: UInt64, _ a: UInt64, _ b: UInt64, _ c: UInt64, _ d: UInt64, _ e: UInt64
    ) -> UInt64 {
        var h = SipHash24(k0: k0, k1: k1)
        h.compress(a)
        h.compress(b)
        h.compress(c)
        h.compress(d)
        h.compress(e)
        h.length = 40
        return h.finalize()
    }
}
