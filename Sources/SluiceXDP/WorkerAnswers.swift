// Collects one answer per worker for a question posted to every worker's mailbox, and wakes the
// asking task when the last answer arrives or the deadline passes, whichever is first (a stalled
// or stopped worker must not hang the admin API). Answers that come after the deadline are dropped.

import Synchronization

/// Answers of several workers to one question.
final class WorkerAnswers<Answer: Sendable>: Sendable {
    private struct State {
        var answers: [Answer?]
        var remaining: Int
        var continuation: CheckedContinuation<[Answer?], Never>?
        var finished = false
    }
    private let state: Mutex<State>

    init(workers: Int) {
        state = Mutex(State(answers: Array(repeating: nil, count: workers), remaining: workers))
    }

    /// Records worker `index`'s answer; the last one wakes the waiter.
    func answer(_ index: Int, _ value: Answer) {
        let wake = state.withLock { s -> (CheckedContinuation<[Answer?], Never>, [Answer?])? in
            guard !s.finished else { return nil }
            s.answers[index] = value
            s.remaining -= 1
            guard s.remaining <= 0, let continuation = s.continuation else { return nil }
            s.finished = true
            s.continuation = nil
            return (continuation, s.answers)
        }
        if let (continuation, answers) = wake { continuation.resume(returning: answers) }
    }

    /// Marks a worker that will not answer (its mailbox was full or it is not running).
    func skip(_ index: Int) {
        let wake = state.withLock { s -> (CheckedContinuation<[Answer?], Never>, [Answer?])? in
            guard !s.finished else { return nil }
            s.remaining -= 1
            guard s.remaining <= 0, let continuation = s.continuation else { return nil }
            s.finished = true
            s.continuation = nil
            return (continuation, s.answers)
        }
        if let (continuation, answers) = wake { continuation.resume(returning: answers) }
    }

    /// Waits for every answer, or until `timeout`; missing answers are nil.
    func wait(timeout: Duration) async -> [Answer?] {
        let timer = Task {
            try? await Task.sleep(for: timeout)
            let wake = state.withLock { s -> (CheckedContinuation<[Answer?], Never>, [Answer?])? in
                guard !s.finished, let continuation = s.continuation else { return nil }
                s.finished = true
                s.continuation = nil
                return (continuation, s.answers)
            }
            if let (continuation, answers) = wake { continuation.resume(returning: answers) }
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { continuation in
            let ready = state.withLock { s -> [Answer?]? in
                if s.remaining <= 0 || s.finished {
                    s.finished = true
                    return s.answers
                }
                s.continuation = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
