// CONTRACT STUB — replaced by the real FULLNAT data plane. Signatures here are the contract
// between SluiceXDP's worker loop and SluiceCore.

import SluicePacket

/// One worker's data plane: all its tables, owned by one thread, no locks.
public struct Dataplane: ~Copyable {
    /// Per-worker counters; the worker publishes them for readers.
    public var counters: Counters

    /// - Parameters:
    ///   - configuration: the services, LIPs and limits.
    ///   - worker: this worker's index in 0..<workerCount (selects its local-port slice).
    ///   - workerCount: number of workers sharing the LIPs.
    ///   - externalInterface/internalInterface: ifindexes of the two sides (may be equal).
    ///   - secret: 128 bits of randomness for hashing and ISN generation.
    public init(
        configuration: DataplaneConfiguration, worker: Int, workerCount: Int, externalInterface: Int32,
        internalInterface: Int32, secret: (UInt64, UInt64)
    ) {
        counters = Counters()
    }

    /// Swap in a new configuration at a batch boundary; unchanged services keep their connections.
    public mutating func apply(configuration: DataplaneConfiguration) {}

    /// Processes one received frame in place.
    /// - Parameters:
    ///   - frame: the frame's buffer, from the first byte of the Ethernet header to the end of the
    ///     UMEM chunk (so a rewrite may grow the frame up to `frame.count`).
    ///   - length: the frame's length on input; the length to transmit on output.
    ///   - side: the interface it arrived on.
    ///   - now: monotonic milliseconds.
    ///   - network: the current L2/L3 snapshot.
    /// - Returns: where to send the frame, or why it was dropped (already counted).
    public mutating func process(
        frame: inout MutableSpan<UInt8>, length: inout Int, from side: Side, now: UInt64,
        network: borrowing NetworkView
    ) -> Verdict {
        counters.count(.noService)
        return .drop(.noService)
    }

    /// Runs expired timers. Call at least every few milliseconds, at batch boundaries.
    public mutating func advance(now: UInt64) {}

    /// Frames the data plane generated itself (RSTs, ICMP errors, SYNs to real servers) waiting to be
    /// sent. The worker copies each into a free UMEM frame and transmits it on `side`.
    public var pendingOutputCount: Int { 0 }

    /// Calls `body` with the bytes and side of pending output `index`.
    public func withPendingOutput<R>(_ index: Int, _ body: (Span<UInt8>, Side) -> R) -> R {
        fatalError("no pending output")
    }

    /// Forgets the pending output after the worker has sent it (or given up).
    public mutating func clearPendingOutput() {}

    /// Next-hop addresses that had no neighbour entry, for the worker to ask the kernel to resolve.
    public var pendingResolutionCount: Int { 0 }
    public func pendingResolution(_ index: Int) -> (address: IPAddress, interfaceIndex: Int32) {
        fatalError("none")
    }
    public mutating func clearPendingResolutions() {}
}
