// What a worker thread shares with the rest of the process: a stop flag it checks every iteration (and
// always before blocking in poll), the counters it publishes every ~100 ms for readers to sum, a
// heartbeat that moves while the loop runs (the control plane withdraws routes on a stalled data plane),
// and the cookie-key generation it has taken.
// Everything here is written at batch boundaries at most, never per packet.

import SluiceCore
import Synchronization

/// Stop flag, published counters and heartbeat of one worker.
final class WorkerControl: Sendable {
    let stopRequested = Atomic<Bool>(false)
    let heartbeat = Atomic<UInt64>(0)
    let running = Atomic<Bool>(false)
    /// The SYN-cookie keyring generation the data plane holds (the runtime waits for it after a rotation).
    let cookieKeyGeneration = Atomic<UInt64>(0)
    private let published = Mutex<Counters>(Counters())

    func publish(_ counters: Counters) {
        published.withLock { $0 = counters }
        heartbeat.wrappingAdd(1, ordering: .relaxed)
    }

    var counters: Counters { published.withLock { $0 } }
}
