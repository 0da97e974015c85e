// Rate limit for ICMP errors the gateway originates (RFC 1812 §4.3.2.8, RFC 4443 §2.4(f)): a flood
// of expiring or oversized packets must not turn Sluice into an ICMP amplifier.

/// A token bucket over a millisecond clock.
public struct TokenBucket: Sendable {
    public var ratePerSecond: UInt64
    public var burst: UInt64
    @usableFromInline var tokens: UInt64
    @usableFromInline var last: UInt64

    public init(ratePerSecond: UInt64, burst: UInt64) {
        self.ratePerSecond = ratePerSecond
        self.burst = burst
        self.tokens = burst
        self.last = 0
    }

    /// Takes one token if available.
    @inlinable
    public mutating func take(now: UInt64) -> Bool {
        if now > last {
            let refill = (now - last) * ratePerSecond / 1000
            if refill > 0 {
                tokens = min(burst, tokens + refill)
                last = now
            }
        }
        guard tokens > 0 else { return false }
        tokens -= 1
        return true
    }
}
