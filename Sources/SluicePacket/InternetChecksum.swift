// The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
//
// Sums are accumulated in a UInt64 and folded only at the end: the ones'-complement sum of 16-bit
// words equals their integer sum reduced modulo 0xFFFF (2^16 ≡ 1), so the accumulator may take whole
// 32-bit big-endian chunks (2^32 − 1 is a multiple of 0xFFFF too) and segments can be chained through
// `into:` as long as each segment starts at an even offset of the checksummed data.
//
// NAT rewrites use `update` (RFC 1624 eqn 3, HC' = ~(~HC + ~m + m')), never a recomputation: an
// incremental update keeps a corrupted packet detectably corrupted, while a full recomputation would
// launder it (docs/design.md §4.6). Eqn 3 yields the same value as a full recomputation, including 0x0000
// where eqn 2 would give 0xFFFF. A field that sits at an odd offset of the checksummed data
// contributes its bytes swapped (RFC 1071 §2(B)); the `odd:` variants take care of that.
//
// UDP over IPv4 adds two rules (RFC 768; linux nf_flow_nat_ip_udp): a zero checksum means "none"
// and must stay zero, and a computed 0x0000 is sent as 0xFFFF. The `updateUDP` functions apply both.
// IPv6 UDP checksums are mandatory (RFC 8200 §8.1), and the parser drops a zero one, so the
// `updateUDP` functions are also right for IPv6.

/// Internet checksum arithmetic: full sums, pseudo-headers and incremental updates.
public enum InternetChecksum {
    /// Adds the big-endian 16-bit words of `s[from ..< from + count]` to `acc`. An odd final byte is
    /// padded with a zero byte. Chain calls through `acc` only for segments that start at an even
    /// offset of the checksummed data.
    @inlinable
    public static func sum(_ s: Span<UInt8>, from: Int, count: Int, into acc: UInt64 = 0) -> UInt64 {
        guard count > 0 else { return acc }
        precondition(from >= 0 && from <= s.count &- count, "range out of bounds")
        var acc = acc
        var i = from
        let end = from &+ count
        // 64 bytes a step where there are that many (each step adds less than 2^33: no carry is lost
        // in a 64 KiB datagram), then straight-line steps of 32, 16, 8, 4, 2 and 1 bytes (a loop would
        // check every byte again, see `sum64`). Every step's value is congruent to its words' sum
        // modulo 0xFFFF and zero only when its bytes are, so the folded result is the same.
        while end &- i >= 64 {
            acc &+= sum64(s, at: i)
            i &+= 64
        }
        if end &- i >= 32 {
            acc &+= sum32(s, at: i)
            i &+= 32
        }
        if end &- i >= 16 {
            let a = s.u64(i)
            let b = s.u64(i &+ 8)
            acc &+= (a &>> 32) &+ (a & 0xFFFF_FFFF) &+ (b &>> 32) &+ (b & 0xFFFF_FFFF)
            i &+= 16
        }
        if end &- i >= 8 {
            let a = s.u64(i)
            acc &+= (a &>> 32) &+ (a & 0xFFFF_FFFF)
            i &+= 8
        }
        if end &- i >= 4 {
            acc &+= UInt64(s.u32(i))
            i &+= 4
        }
        if end &- i >= 2 {
            acc &+= UInt64(s.u16(i))
            i &+= 2
        }
        if i < end {
            acc &+= UInt64(s[i]) &<< 8
        }
        return acc
    }

    /// The ones'-complement sum of the 64 bytes at `i`, as eight 64-bit words with end-around carry
    /// (2^64 − 1 is a multiple of 0xFFFF), reduced below 2^33. Out of line on purpose: in a function of
    /// its own one range check covers the 64 bytes, where inside the caller's loop the optimizer checks
    /// every byte again (≈ 5 instructions per byte against ≈ 0.6).
    @usableFromInline @inline(never)
    static func sum64(_ s: Span<UInt8>, at i: Int) -> UInt64 {
        precondition(i >= 0 && i <= s.count &- 64, "range out of bounds")
        var acc = s.u64(i)
        addWithCarry(&acc, s.u64(i &+ 8))
        addWithCarry(&acc, s.u64(i &+ 16))
        addWithCarry(&acc, s.u64(i &+ 24))
        addWithCarry(&acc, s.u64(i &+ 32))
        addWithCarry(&acc, s.u64(i &+ 40))
        addWithCarry(&acc, s.u64(i &+ 48))
        addWithCarry(&acc, s.u64(i &+ 56))
        return (acc & 0xFFFF_FFFF) &+ (acc &>> 32)
    }

    /// `acc + w` in ones'-complement arithmetic: a carry out of the top wraps around to the bottom.
    /// The result is never 0 when `w` is not.
    @inlinable @inline(__always)
    static func addWithCarry(_ acc: inout UInt64, _ w: UInt64) {
        let (sum, carried) = acc.addingReportingOverflow(w)
        acc = sum &+ (carried ? 1 : 0)
    }

    /// The eight big-endian 32-bit words at `i`, added: `sum64`'s half, for the rest of a message.
    @usableFromInline @inline(never)
    static func sum32(_ s: Span<UInt8>, at i: Int) -> UInt64 {
        precondition(i >= 0 && i <= s.count &- 32, "range out of bounds")
        let a = s.u64(i)
        let b = s.u64(i &+ 8)
        let c = s.u64(i &+ 16)
        let d = s.u64(i &+ 24)
        return (a &>> 32) &+ (a & 0xFFFF_FFFF) &+ (b &>> 32) &+ (b & 0xFFFF_FFFF) &+ (c &>> 32)
            &+ (c & 0xFFFF_FFFF) &+ (d &>> 32) &+ (d & 0xFFFF_FFFF)
    }

    /// Folds an accumulated sum to its 16-bit ones'-complement value (not complemented).
    @inlinable @inline(__always)
    public static func fold(_ acc: UInt64) -> UInt16 {
        var a = (acc & 0xFFFF_FFFF) &+ (acc &>> 32)
        a = (a & 0xFFFF_FFFF) &+ (a &>> 32)
        a = (a & 0xFFFF) &+ (a &>> 16)
        a = (a & 0xFFFF) &+ (a &>> 16)
        return UInt16(truncatingIfNeeded: a)
    }

    /// The checksum field value for an accumulated sum: folded and complemented.
    @inlinable @inline(__always)
    public static func finish(_ acc: UInt64) -> UInt16 { ~fold(acc) }

    /// RFC 1624 eqn 3: the checksum after a 16-bit word of the covered data changes from `old` to `new`.
    @inlinable @inline(__always)
    public static func update(_ checksum: UInt16, old: UInt16, new: UInt16) -> UInt16 {
        ~fold(UInt64(~checksum) &+ UInt64(~old) &+ UInt64(new))
    }

    /// The checksum after a 32-bit field (two words) changes from `old32` to `new32`.
    @inlinable @inline(__always)
    public static func update(_ checksum: UInt16, old32: UInt32, new32: UInt32) -> UInt16 {
        // ~x in 32 bits is −x modulo 0xFFFF, so the two words can be handled as one value.
        ~fold(UInt64(~checksum) &+ UInt64(~old32) &+ UInt64(new32))
    }

    /// The checksum after a 16-bit field changes; `odd` says the field starts at an odd offset of the
    /// checksummed data (its bytes then fall in two different words).
    @inlinable
    public static func update(_ checksum: UInt16, old: UInt16, new: UInt16, odd: Bool) -> UInt16 {
        odd ? update(checksum, old: old.byteSwapped, new: new.byteSwapped) : update(checksum, old: old, new: new)
    }

    /// The checksum after a 32-bit field changes; `odd` says the field starts at an odd offset of the
    /// checksummed data.
    @inlinable
    public static func update(_ checksum: UInt16, old32: UInt32, new32: UInt32, odd: Bool) -> UInt16 {
        // At an odd offset each byte lands in the other half of its word: rotating by 8 bits gives
        // the same ones'-complement contribution.
        odd
            ? update(checksum, old32: old32.rotatedLeft8, new32: new32.rotatedLeft8)
            : update(checksum, old32: old32, new32: new32)
    }

    /// The checksum after an address changes (2 words for IPv4, 8 for IPv6). Use it for the IPv4
    /// header checksum and for the TCP/UDP/ICMPv6 pseudo-header. Both addresses must be of one family.
    @inlinable @inline(__always)
    public static func update(_ checksum: UInt16, oldAddress: IPAddress, newAddress: IPAddress) -> UInt16 {
        ~fold(UInt64(~checksum) &+ negatedSum(oldAddress) &+ sum(newAddress))
    }

    /// The unfolded RFC 1624 difference of an address changing from `old` to `new`: its words'
    /// negations plus the new words. Differences add, so several changed fields make one update
    /// (`update(_:delta:)`), which gives the same checksum as updating field by field: every partial
    /// sum stays positive, as the new address has a non-zero word.
    @inlinable @inline(__always)
    public static func delta(from old: IPAddress, to new: IPAddress) -> UInt64 {
        negatedSum(old) &+ sum(new)
    }

    /// The unfolded RFC 1624 difference of a 32-bit field (two words) changing from `old` to `new`.
    @inlinable @inline(__always)
    public static func delta(from old: UInt32, to new: UInt32) -> UInt64 {
        UInt64(~old) &+ UInt64(new)
    }

    /// RFC 1624 eqn 3 with an accumulated difference (`delta(from:to:)`, added).
    @inlinable @inline(__always)
    public static func update(_ checksum: UInt16, delta: UInt64) -> UInt16 {
        ~fold(UInt64(~checksum) &+ delta)
    }

    /// The ones'-complement sum of an address's words (unfolded).
    @inlinable @inline(__always)
    public static func sum(_ a: IPAddress) -> UInt64 {
        if a.isV6 {
            return (a.high &>> 32) &+ (a.high & 0xFFFF_FFFF) &+ (a.low &>> 32) &+ (a.low & 0xFFFF_FFFF)
        }
        return UInt64(a.v4)
    }

    @inlinable @inline(__always)
    static func negatedSum(_ a: IPAddress) -> UInt64 {
        if a.isV6 {
            return UInt64(~UInt32(truncatingIfNeeded: a.high &>> 32)) &+ UInt64(~UInt32(truncatingIfNeeded: a.high))
                &+ UInt64(~UInt32(truncatingIfNeeded: a.low &>> 32)) &+ UInt64(~UInt32(truncatingIfNeeded: a.low))
        }
        return UInt64(~a.v4)
    }

    /// The unfolded pseudo-header sum for TCP, UDP and ICMPv6: RFC 768/793 for IPv4 (addresses, zero,
    /// protocol, 16-bit length) and RFC 8200 §8.1 for IPv6 (addresses, 32-bit upper-layer length,
    /// next header). `length` is the L4 length (header + payload).
    @inlinable
    public static func pseudoHeader(source: IPAddress, destination: IPAddress, protocol: UInt8, length: Int)
        -> UInt64
    {
        // Both forms reduce to the same sum modulo 0xFFFF: the IPv6 32-bit length splits into two
        // words and the zero bytes before the protocol add nothing.
        let len = UInt64(truncatingIfNeeded: UInt32(truncatingIfNeeded: length))
        return sum(source) &+ sum(destination) &+ UInt64(`protocol`) &+ len
    }

    /// `update` with the IPv4 UDP rules: a zero checksum ("none") stays zero, and a result of 0x0000
    /// is written as 0xFFFF.
    @inlinable
    public static func updateUDP(_ checksum: UInt16, old: UInt16, new: UInt16, odd: Bool = false) -> UInt16 {
        if checksum == 0 { return 0 }
        return udpField(update(checksum, old: old, new: new, odd: odd))
    }

    /// `update(_:old32:new32:)` with the UDP zero rules.
    @inlinable
    public static func updateUDP(_ checksum: UInt16, old32: UInt32, new32: UInt32, odd: Bool = false) -> UInt16 {
        if checksum == 0 { return 0 }
        return udpField(update(checksum, old32: old32, new32: new32, odd: odd))
    }

    /// `update(_:oldAddress:newAddress:)` with the UDP zero rules.
    @inlinable
    public static func updateUDP(_ checksum: UInt16, oldAddress: IPAddress, newAddress: IPAddress) -> UInt16 {
        if checksum == 0 { return 0 }
        return udpField(update(checksum, oldAddress: oldAddress, newAddress: newAddress))
    }

    /// The value to store in a UDP checksum field for a computed checksum: 0x0000 becomes 0xFFFF,
    /// because 0 on the wire means "no checksum".
    @inlinable
    public static func udpField(_ computed: UInt16) -> UInt16 { computed == 0 ? 0xFFFF : computed }
}

extension UInt32 {
    @usableFromInline
    var rotatedLeft8: UInt32 { self &<< 8 | self &>> 24 }
}
