// Initial sequence numbers for the connections the gateway opens towards real servers
// (docs/protocol.md §3, pitfall 5): RFC 6528 §3, ISN = M + F(localip, localport, remoteip, remoteport,
// secretkey), where M is a 4-microsecond timer and F a keyed PRF (here SipHash-2-4, as Linux's
// `secure_tcp_seq`). Many clients share one LIP:lport towards the same RS:rport over time; the RS
// accepts a new SYN on a tuple still in TIME_WAIT only if its sequence number is beyond the old
// connection's (RFC 6191, Linux `tcp_timewait_state_process`). A clock-driven ISN grows faster
// than any connection's sequence numbers on a given tuple, so a reuse after FIFO port recycling
// lands above the old RCV.NXT, while F keeps the ISN unpredictable to an off-path attacker.
//
// Arithmetic is mod 2^32 throughout (`&*`, `&+`): M wraps every 2^32 · 4 µs ≈ 4.8 hours.

import SluicePacket

/// RFC 6528 initial-sequence-number generator.
public struct SequenceNumberGenerator: Sendable {
    @usableFromInline let k0: UInt64
    @usableFromInline let k1: UInt64

    /// - Parameter secret: 128-bit key for F; keep it distinct from other keys derived from the
    ///   worker secret.
    public init(secret: (UInt64, UInt64)) {
        k0 = secret.0
        k1 = secret.1
    }

    /// The keyed part F: 32 bits of SipHash-2-4 over both full addresses (all 128 bits of IPv6),
    /// both ports and the address family.
    @inlinable
    public func offset(local: IPAddress, localPort: UInt16, remote: IPAddress, remotePort: UInt16) -> UInt32 {
        let ports = UInt64(localPort) << 48 | UInt64(remotePort) << 32 | (local.isV6 ? 1 : 0) | (remote.isV6 ? 2 : 0)
        let h = SipHash24.hash(k0: k0, k1: k1, local.high, local.low, remote.high, remote.low, ports)
        return UInt32(truncatingIfNeeded: h)
    }

    /// ISN = M + F with M = `nowMilliseconds` · 250 (4-µs ticks), wrapping mod 2^32.
    @inlinable
    public func isn(
        local: IPAddress, localPort: UInt16, remote: IPAddress, remotePort: UInt16, nowMilliseconds: UInt64
    ) -> UInt32 {
        let m = UInt32(truncatingIfNeeded: nowMilliseconds &* 250)
        return m &+ offset(local: local, localPort: localPort, remote: remote, remotePort: remotePort)
    }
}
