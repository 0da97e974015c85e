// The SYN-cookie keys of one runtime: one current key that the XDP program and every worker make cookies
// with, and the previous key, still accepted. A cookie made by one maker is checked by another (XDP makes
// it, the worker that gets the ACK checks it), so they must hold the same keys; the runtime publishes a
// keyring to the workers (SnapshotBox) and writes the same keys into the program's sluice_cookie_keys map.
//
// Generations count rotations: a worker that saw generation g and finds g + 1 rotates once; one that
// finds more (it cannot, with rotations 120 s apart, but cheaply handled) loads previous and current.

import SluiceCore

/// The current and previous SYN-cookie keys (128-bit SipHash keys as `SynCookie` takes them).
public struct SynCookieKeyring: Sendable {
    /// The key cookies are made with.
    public var current: (UInt64, UInt64)
    /// The previous generation's key, still accepted; nil before the first rotation.
    public var previous: (UInt64, UInt64)?
    /// The number of rotations so far.
    public var generation: UInt64

    /// A keyring with one key and no previous one.
    public init(key: (UInt64, UInt64)) {
        current = key
        previous = nil
        generation = 0
    }

    /// A keyring that starts with `current` and still accepts `previous` (keys derived from a shared
    /// file, where every gateway of a group holds the same two).
    public init(current: (UInt64, UInt64), previous: (UInt64, UInt64)) {
        self.current = current
        self.previous = previous
        generation = 0
    }

    /// A fresh random key.
    public static func randomKey() -> (UInt64, UInt64) {
        var generator = SystemRandomNumberGenerator()
        return (generator.next(), generator.next())
    }

    /// Makes `key` current and the current key the previous one (`SynCookie.rotate`).
    public mutating func rotate(to key: (UInt64, UInt64)) {
        previous = current
        current = key
        generation &+= 1
    }

    /// Brings a data plane that holds the keys of generation `seen` to this keyring's keys.
    func bring<Processor: FrameProcessor & ~Copyable>(_ processor: inout Processor, from seen: UInt64) {
        guard generation != seen else { return }
        if generation &- seen > 1, let previous { processor.rotateSynCookieKey(previous) }
        processor.rotateSynCookieKey(current)
    }
}
