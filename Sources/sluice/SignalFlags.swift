// Signals are recorded in atomics by async-signal-safe handlers and acted on by the main loop,
// which polls them every few milliseconds: nothing but an atomic store happens in a handler.

import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Set by SIGTERM / SIGINT.
let stopRequested = Atomic<Bool>(false)
/// Set by SIGHUP: reload the configuration file.
let reloadRequested = Atomic<Bool>(false)

enum SignalFlags {
    static func install() {
        signal(SIGTERM) { _ in stopRequested.store(true, ordering: .relaxed) }
        signal(SIGINT) { _ in stopRequested.store(true, ordering: .relaxed) }
        signal(SIGHUP) { _ in reloadRequested.store(true, ordering: .relaxed) }
        signal(SIGPIPE, SIG_IGN)
    }
}
