// Workers are OS threads, not Swift concurrency tasks: the loop never yields, so it must not occupy a
// cooperative pool thread, and it is pinned to one CPU (docs/design.md §2). pthreads directly, so SluiceXDP needs no
// Foundation. The body is boxed and passed through pthread_create's context pointer.

import CXDP

#if canImport(Glibc)
    import Glibc
#endif

/// A joinable OS thread, optionally pinned to a CPU.
@safe
final class PinnedThread {
    private final class Context {
        let name: String
        let cpu: Int?
        let body: @Sendable () -> Void
        init(name: String, cpu: Int?, body: @escaping @Sendable () -> Void) {
            self.name = name
            self.cpu = cpu
            self.body = body
        }
    }

    private var thread: pthread_t
    private var joined = false

    /// Starts the thread. Pinning failures (CPU out of range or not allowed) leave it unpinned.
    init(name: String, cpu: Int?, body: @escaping @Sendable () -> Void) throws(XDPError) {
        let context = unsafe Unmanaged.passRetained(Context(name: name, cpu: cpu, body: body))
        var thread = pthread_t()
        let rc = unsafe pthread_create(
            &thread, nil,
            { raw in
                let context = unsafe Unmanaged<Context>.fromOpaque(raw!).takeRetainedValue()
                _ = unsafe cxdp_set_thread_name(String(context.name.prefix(15)))
                if let cpu = context.cpu { _ = cxdp_pin_current_thread(Int32(cpu)) }
                context.body()
                return nil
            }, unsafe context.toOpaque())
        guard rc == 0 else {
            unsafe context.release()
            throw XDPError(operation: "start thread", subject: name, code: rc)
        }
        self.thread = thread
    }

    /// Waits for the thread to finish. Idempotent.
    func join() {
        guard !joined else { return }
        joined = true
        _ = pthread_join(thread, nil)
    }

    deinit { join() }
}
