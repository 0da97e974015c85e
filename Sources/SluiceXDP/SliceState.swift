// The state of a mailbox request done in slices (`DataPlaneRuntime.askInSlices`). Only the one
// worker thread that serves the request touches it, one slice after another, so it needs no lock; the
// mutex is there to make that ownership explicit to the compiler, and is never contended.

import Synchronization

/// A value carried from one slice of a request to the next.
final class SliceState<State: Sendable>: Sendable {
    private let state: Mutex<State>

    init(_ initial: State) {
        state = Mutex(initial)
    }

    /// Runs one slice on the state.
    func advance<Answer>(_ body: (inout State) -> Answer) -> Answer {
        state.withLock { body(&$0) }
    }
}
