// TOA, "TCP option of address": the client's port and address carried to the real server in a TCP
// option, read there by the toa.ko kernel module (docs/protocol.md §6; iqiyi/dpvs include/ipvs/proto_tcp.h
// and kmod/toa/toa.h):
//
//     IPv4:  kind | 8  | port (2, network order) | address (4)
//     IPv6:  kind | 20 | port (2, network order) | address (16)
//
// The kind defaults to 254 (an RFC 4727 experimental kind, as dpvs uses for both families); alibaba's
// LVS used 253 for the IPv6 form and some vendors use others, so it is a parameter. Both lengths are
// multiples of 4, so inserting the option keeps every later byte at the same 4-byte alignment, which is
// what lets `insert` (TOA+Insert.swift) update the TCP checksum without touching the payload.

/// TOA option encoding and insertion.
public enum TOA {
    /// The option kind dpvs and toa.ko use.
    public static let defaultKind: UInt8 = 254
    /// Option length for an IPv4 address.
    public static let lengthV4 = 8
    /// Option length for an IPv6 address.
    public static let lengthV6 = 20

    /// The option length for `address`: 8 for IPv4, 20 for IPv6.
    @inlinable
    public static func length(for address: IPAddress) -> Int { address.isV6 ? lengthV6 : lengthV4 }

    /// Writes the option (kind, length, port, address) at `at`.
    /// - Returns: the bytes written (8 or 20), or 0 (and nothing written) if it does not fit in `span`.
    @inlinable
    public static func write(
        into span: inout MutableSpan<UInt8>, at: Int, port: UInt16, address: IPAddress, kind: UInt8 = defaultKind
    ) -> Int {
        let n = length(for: address)
        guard at >= 0, at <= span.count &- n else { return 0 }
        span[at] = kind
        span[at &+ 1] = UInt8(truncatingIfNeeded: n)
        span.set16(port, at: at &+ 2)
        span.setAddress(address, at: at &+ 4)
        return n
    }
}
