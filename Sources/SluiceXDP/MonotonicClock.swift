// The data plane reads no clock of its own (docs/design.md §3); the worker passes it CLOCK_MONOTONIC milliseconds,
// read once per loop iteration (vDSO, no syscall).

#if canImport(Glibc)
    import Glibc
#endif

/// CLOCK_MONOTONIC in milliseconds.
public enum MonotonicClock {
    @inline(__always)
    public static func milliseconds() -> UInt64 {
        var now = timespec()
        _ = unsafe clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) &* 1000 &+ UInt64(now.tv_nsec) / 1_000_000
    }
}
