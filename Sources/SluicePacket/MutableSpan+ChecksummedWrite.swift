// Field writes that keep a covering checksum valid (RFC 1624 eqn 3).
//
// Every NAT rewrite is "store a new value, adjust a checksum by the difference". Doing both in one
// call keeps the old value and the alignment right: `dataStart` is where the checksummed data begins
// (the TCP/UDP/ICMP header, or the IPv4 header), and a field at an odd distance from it is folded in
// byte-swapped. UDP's zero rules (RFC 768: 0 = no checksum, a computed 0 is sent as 0xFFFF) apply
// when `udp` is true.

extension MutableSpan where Element == UInt8 {
    /// Stores `v` at `at` and incrementally updates the checksum field at `checksumAt`, which covers
    /// data starting at `dataStart`. With `udp`, a zero checksum is left alone and a zero result
    /// becomes 0xFFFF.
    @inlinable
    public mutating func rewrite16(_ v: UInt16, at: Int, checksumAt: Int, dataStart: Int, udp: Bool = false) {
        let old = u16(at)
        set16(v, at: at)
        let odd = (at - dataStart) & 1 == 1
        let c = u16(checksumAt)
        if udp {
            set16(InternetChecksum.updateUDP(c, old: old, new: v, odd: odd), at: checksumAt)
        } else {
            set16(InternetChecksum.update(c, old: old, new: v, odd: odd), at: checksumAt)
        }
    }

    /// Stores `v` at `at` (32 bits) and incrementally updates the checksum at `checksumAt`; see
    /// `rewrite16`.
    @inlinable
    public mutating func rewrite32(_ v: UInt32, at: Int, checksumAt: Int, dataStart: Int, udp: Bool = false) {
        let old = u32(at)
        set32(v, at: at)
        let odd = (at - dataStart) & 1 == 1
        let c = u16(checksumAt)
        if udp {
            set16(InternetChecksum.updateUDP(c, old32: old, new32: v, odd: odd), at: checksumAt)
        } else {
            set16(InternetChecksum.update(c, old32: old, new32: v, odd: odd), at: checksumAt)
        }
    }
}
