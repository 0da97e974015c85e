// Everything about the I/O runtime that is not data-plane configuration: which interfaces, how the program
// is attached, how many workers, how much packet memory. Defaults are the ones that work everywhere (veth
// in generic mode, one worker, copy mode).

/// Settings of the AF_XDP runtime.
public struct DataPlaneOptions: Sendable, Hashable {
    /// The interface clients reach the VIPs through.
    public var externalInterface: String
    /// The interface real servers are reached through (may equal `externalInterface`).
    public var internalInterface: String
    /// How the steering program is attached.
    public var mode: XDPMode
    /// Number of workers, one per rx queue starting at queue 0. In skb mode on veth every frame arrives on
    /// queue 0, so keep 1 there; use more with native mode on multi-queue devices.
    public var queues: Int
    /// CPUs to pin workers to (worker i → cpus[i % count]); empty leaves them unpinned.
    public var cpus: [Int]
    /// UMEM frame size in bytes (power of two, 2048...page size).
    public var frameSize: Int
    /// UMEM frames per worker (power of two).
    public var frameCount: Int
    /// Socket ring sizes and zero-copy preference.
    public var socket: XSKSocket.Options
    /// Remove any XDP program found on the interfaces, not only a stale `sluice_steer`.
    public var forceReplace: Bool
    /// Longest sleep in poll() when a worker is idle (1...100 ms).
    public var idlePollMilliseconds: Int32
    /// Rounds a worker keeps polling its rings after finding no work before it sleeps in poll(). 0 (the
    /// default) sleeps at once: in copy mode the kernel copies received frames on the worker's core, and
    /// spinning there takes that core from the copy (on veth, 64 rounds cost 15-25 % of the forwarding rate
    /// and about 40 µs of CPU per connection; Perf/README.md). Worth raising only on a core of its own.
    public var idleSpinRounds: Int
    /// Program receive classification rules on the interface replies arrive on, steering each to the
    /// queue of the worker owning its local port (NtupleRuleTable.swift); needs a power-of-two `queues`.
    public var ntupleRules: Bool

    public init(
        externalInterface: String, internalInterface: String? = nil, mode: XDPMode = .auto, queues: Int = 1,
        cpus: [Int] = [], frameSize: Int = 4096, frameCount: Int = 4096, socket: XSKSocket.Options = .init(),
        forceReplace: Bool = false, idlePollMilliseconds: Int32 = 10, idleSpinRounds: Int = 0,
        ntupleRules: Bool = false
    ) {
        self.ntupleRules = ntupleRules
        self.externalInterface = externalInterface
        self.internalInterface = internalInterface ?? externalInterface
        self.mode = mode
        self.queues = queues
        self.cpus = cpus
        self.frameSize = frameSize
        self.frameCount = frameCount
        self.socket = socket
        self.forceReplace = forceReplace
        self.idlePollMilliseconds = idlePollMilliseconds
        self.idleSpinRounds = idleSpinRounds
    }
}
