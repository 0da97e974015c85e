// Big-endian field access over a frame held as `Span<UInt8>` / `MutableSpan<UInt8>`.
//
// Packet code never touches pointers (strict memory safety; only SluiceXDP may be `unsafe`), so every
// header field is read byte by byte through the span's bounds-checked subscript. Each multi-byte
// accessor first checks its whole field with one `precondition` (offset ≥ 0 and offset + width ≤
// count): that check dominates the per-byte subscript checks, so at -O the optimizer proves them
// redundant and drops them, and merges the byte loads into one load plus a byte swap. Where the caller
// validated a length before (the parser, against the datagram), the field's own check folds away too:
// a validated header costs no bounds checks at all, which per-byte checks did (two instructions per
// byte, most of a parse). An out-of-range field traps, as before, so the parser still validates every
// length against the frame first. Hot callers compute a field's offset with a checked `+` (`l4 + 4`):
// the optimizer folds a wrapping `l4 &+ 4` into the byte indices (`l4 &+ 5`, ...) and can then no
// longer relate them to the field's check, so each byte is checked again.
//
// The `Span` and `MutableSpan` extensions mirror each other; `MutableSpan` adds the setters and the
// byte-moving helpers that in-place rewrites (ICMP error construction, TOA insertion) need.

extension Span where Element == UInt8 {
    /// The byte at `offset`.
    @inlinable @inline(__always)
    public func u8(_ offset: Int) -> UInt8 { self[offset] }

    /// The big-endian 16-bit value at `offset`.
    @inlinable @inline(__always)
    public func u16(_ offset: Int) -> UInt16 {
        precondition(offset >= 0 && offset <= count &- 2, "field out of bounds")
        return UInt16(self[offset]) &<< 8 | UInt16(self[offset &+ 1])
    }

    /// The big-endian 32-bit value at `offset`.
    @inlinable @inline(__always)
    public func u32(_ offset: Int) -> UInt32 {
        precondition(offset >= 0 && offset <= count &- 4, "field out of bounds")
        return UInt32(self[offset]) &<< 24 | UInt32(self[offset &+ 1]) &<< 16 | UInt32(self[offset &+ 2]) &<< 8
            | UInt32(self[offset &+ 3])
    }

    /// The big-endian 64-bit value at `offset`.
    @inlinable @inline(__always)
    public func u64(_ offset: Int) -> UInt64 {
        precondition(offset >= 0 && offset <= count &- 8, "field out of bounds")
        return UInt64(u32(offset)) &<< 32 | UInt64(u32(offset &+ 4))
    }

    /// The IPv4 address stored in the 4 bytes at `o`.
    @inlinable @inline(__always)
    public func ipv4Address(_ o: Int) -> IPAddress { IPAddress(v4: u32(o)) }

    /// The IPv6 address stored in the 16 bytes at `o`.
    @inlinable @inline(__always)
    public func ipv6Address(_ o: Int) -> IPAddress { IPAddress(v6High: u64(o), low: u64(o &+ 8)) }
}

extension MutableSpan where Element == UInt8 {
    /// The byte at `offset`.
    @inlinable @inline(__always)
    public func u8(_ offset: Int) -> UInt8 { self[offset] }

    /// The big-endian 16-bit value at `offset`.
    @inlinable @inline(__always)
    public func u16(_ offset: Int) -> UInt16 {
        precondition(offset >= 0 && offset <= count &- 2, "field out of bounds")
        return UInt16(self[offset]) &<< 8 | UInt16(self[offset &+ 1])
    }

    /// The big-endian 32-bit value at `offset`.
    @inlinable @inline(__always)
    public func u32(_ offset: Int) -> UInt32 {
        precondition(offset >= 0 && offset <= count &- 4, "field out of bounds")
        return UInt32(self[offset]) &<< 24 | UInt32(self[offset &+ 1]) &<< 16 | UInt32(self[offset &+ 2]) &<< 8
            | UInt32(self[offset &+ 3])
    }

    /// The big-endian 64-bit value at `offset`.
    @inlinable @inline(__always)
    public func u64(_ offset: Int) -> UInt64 {
        precondition(offset >= 0 && offset <= count &- 8, "field out of bounds")
        return UInt64(u32(offset)) &<< 32 | UInt64(u32(offset &+ 4))
    }

    /// The IPv4 address stored in the 4 bytes at `o`.
    @inlinable @inline(__always)
    public func ipv4Address(_ o: Int) -> IPAddress { IPAddress(v4: u32(o)) }

    /// The IPv6 address stored in the 16 bytes at `o`.
    @inlinable @inline(__always)
    public func ipv6Address(_ o: Int) -> IPAddress { IPAddress(v6High: u64(o), low: u64(o &+ 8)) }

    /// Stores a byte at `at`.
    @inlinable @inline(__always)
    public mutating func set8(_ v: UInt8, at: Int) { self[at] = v }

    /// Stores `v` big-endian in the 2 bytes at `at`.
    @inlinable @inline(__always)
    public mutating func set16(_ v: UInt16, at: Int) {
        precondition(at >= 0 && at <= count &- 2, "field out of bounds")
        self[at] = UInt8(truncatingIfNeeded: v &>> 8)
        self[at &+ 1] = UInt8(truncatingIfNeeded: v)
    }

    /// Stores `v` big-endian in the 4 bytes at `at`.
    @inlinable @inline(__always)
    public mutating func set32(_ v: UInt32, at: Int) {
        precondition(at >= 0 && at <= count &- 4, "field out of bounds")
        self[at] = UInt8(truncatingIfNeeded: v &>> 24)
        self[at &+ 1] = UInt8(truncatingIfNeeded: v &>> 16)
        self[at &+ 2] = UInt8(truncatingIfNeeded: v &>> 8)
        self[at &+ 3] = UInt8(truncatingIfNeeded: v)
    }

    /// Stores `v` big-endian in the 8 bytes at `at`.
    @inlinable @inline(__always)
    public mutating func set64(_ v: UInt64, at: Int) {
        precondition(at >= 0 && at <= count &- 8, "field out of bounds")
        set32(UInt32(truncatingIfNeeded: v &>> 32), at: at)
        set32(UInt32(truncatingIfNeeded: v), at: at &+ 4)
    }

    /// Stores an address at `at`: 4 bytes for IPv4, 16 bytes for IPv6.
    @inlinable @inline(__always)
    public mutating func setAddress(_ a: IPAddress, at: Int) {
        if a.isV6 {
            set64(a.high, at: at)
            set64(a.low, at: at &+ 8)
        } else {
            set32(a.v4, at: at)
        }
    }

    /// Copies `count` bytes from `from` to `to` within this span, like `memmove`: the ranges may
    /// overlap. Traps if either range leaves the span.
    ///
    /// 32 bytes a step (`move32`), then one step each of 16, 8, 4, 2 and 1 bytes as the rest needs.
    /// Each step loads all of its bytes before it stores any, and the steps run from the end being
    /// written towards the other (backwards when the bytes move towards the end), so no step reads a
    /// byte an earlier step overwrote. The rest is straight-line code, not a loop: inside a loop the
    /// optimizer keeps checking every byte, after one range check per step it does not.
    @inlinable
    public mutating func moveBytes(from: Int, to: Int, count: Int) {
        precondition(count >= 0 && from >= 0 && to >= 0 && from <= self.count &- count && to <= self.count &- count)
        if count == 0 || from == to { return }
        if to < from {
            var i = 0
            while count &- i >= 32 {
                move32(from: from &+ i, to: to &+ i)
                i &+= 32
            }
            if count &- i >= 16 {
                let a = u64(from &+ i)
                let b = u64(from &+ i &+ 8)
                set64(a, at: to &+ i)
                set64(b, at: to &+ i &+ 8)
                i &+= 16
            }
            if count &- i >= 8 {
                set64(u64(from &+ i), at: to &+ i)
                i &+= 8
            }
            if count &- i >= 4 {
                set32(u32(from &+ i), at: to &+ i)
                i &+= 4
            }
            if count &- i >= 2 {
                set16(u16(from &+ i), at: to &+ i)
                i &+= 2
            }
            if count &- i >= 1 { self[to &+ i] = self[from &+ i] }
        } else {
            var i = count
            while i >= 32 {
                i &-= 32
                move32(from: from &+ i, to: to &+ i)
            }
            if i >= 16 {
                i &-= 16
                let a = u64(from &+ i)
                let b = u64(from &+ i &+ 8)
                set64(a, at: to &+ i)
                set64(b, at: to &+ i &+ 8)
            }
            if i >= 8 {
                i &-= 8
                set64(u64(from &+ i), at: to &+ i)
            }
            if i >= 4 {
                i &-= 4
                set32(u32(from &+ i), at: to &+ i)
            }
            if i >= 2 {
                i &-= 2
                set16(u16(from &+ i), at: to &+ i)
            }
            if i >= 1 { self[to] = self[from] }
        }
    }

    /// Copies the 32 bytes at `from` to `to` (the ranges may overlap): all loads, then all stores. Out
    /// of line on purpose: in a function of its own the two range checks cover every access, which
    /// the optimizer does not see inside the callers' loops (it would check each byte again).
    @usableFromInline @inline(never)
    mutating func move32(from: Int, to: Int) {
        precondition(from >= 0 && from <= count &- 32 && to >= 0 && to <= count &- 32, "range out of bounds")
        let a = u64(from)
        let b = u64(from &+ 8)
        let c = u64(from &+ 16)
        let d = u64(from &+ 24)
        set64(a, at: to)
        set64(b, at: to &+ 8)
        set64(c, at: to &+ 16)
        set64(d, at: to &+ 24)
    }

    /// Copies `count` bytes of `source`, starting at `sourceOffset`, to `to` in this span.
    /// Traps if either range leaves its span. 32 bytes a step, then the rest as `moveBytes` does.
    @inlinable
    public mutating func copyBytes(from source: Span<UInt8>, sourceOffset: Int, to: Int, count: Int) {
        precondition(count >= 0 && sourceOffset >= 0 && to >= 0)
        precondition(sourceOffset <= source.count &- count && to <= self.count &- count)
        var i = 0
        while count &- i >= 32 {
            copy32(from: source, at: sourceOffset &+ i, to: to &+ i)
            i &+= 32
        }
        if count &- i >= 16 {
            set64(source.u64(sourceOffset &+ i), at: to &+ i)
            set64(source.u64(sourceOffset &+ i &+ 8), at: to &+ i &+ 8)
            i &+= 16
        }
        if count &- i >= 8 {
            set64(source.u64(sourceOffset &+ i), at: to &+ i)
            i &+= 8
        }
        if count &- i >= 4 {
            set32(source.u32(sourceOffset &+ i), at: to &+ i)
            i &+= 4
        }
        if count &- i >= 2 {
            set16(source.u16(sourceOffset &+ i), at: to &+ i)
            i &+= 2
        }
        if count &- i >= 1 { self[to &+ i] = source[sourceOffset &+ i] }
    }

    /// `copyBytes` of 32 bytes, out of line for the reason `move32` is.
    @usableFromInline @inline(never)
    mutating func copy32(from source: Span<UInt8>, at offset: Int, to: Int) {
        precondition(offset >= 0 && offset <= source.count &- 32, "range out of bounds")
        precondition(to >= 0 && to <= count &- 32, "range out of bounds")
        set64(source.u64(offset), at: to)
        set64(source.u64(offset &+ 8), at: to &+ 8)
        set64(source.u64(offset &+ 16), at: to &+ 16)
        set64(source.u64(offset &+ 24), at: to &+ 24)
    }
}
