// libbpf and libxdp print to stderr by default: harmless notices ("No bpffs found", "skipping unrecognized
// data section") on every start, and, on a real failure, the one line (or verifier log) that explains it.
// We install print callbacks that drop the noise and keep the last warnings in a small ring, so an
// `XDPError` can carry the library's own explanation instead of the console getting both.

import CXDP
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Captures libbpf/libxdp warnings for error messages.
enum LibraryLog {
    private static let installed = Atomic<Bool>(false)
    private static let lines = Mutex<[String]>([])
    private static let keep = 64

    /// Messages that every normal start produces.
    private static let noise = [
        "No bpffs found", "Can't use dispatcher", "skipping unrecognized data section",
        "Compatibility check for dispatcher program failed",
    ]

    /// Installs the callbacks (idempotent).
    static func install() {
        guard !installed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        _ = unsafe libbpf_set_print { level, format, arguments in
            guard let arguments = unsafe arguments else { return 0 }
            return unsafe LibraryLog.record(level: level.rawValue, format: format, arguments: arguments)
        }
        _ = unsafe libxdp_set_print { level, format, arguments in
            guard let arguments = unsafe arguments else { return 0 }
            return unsafe LibraryLog.record(level: level.rawValue, format: format, arguments: arguments)
        }
    }

    /// Forgets what was captured (call before an operation whose failure you want to explain).
    static func clear() {
        lines.withLock { $0.removeAll(keepingCapacity: true) }
    }

    /// The last `count` captured warnings, joined with " | ", or "" when none.
    static func recent(_ count: Int = 3) -> String {
        lines.withLock { $0.suffix(count).joined(separator: " | ") }
    }

    private static func record(level: UInt32, format: UnsafePointer<CChar>?, arguments: CVaListPointer) -> Int32 {
        // Level 0 is LIBBPF_WARN / LIBXDP_WARN; info and debug are never interesting to an operator.
        guard level == 0, let format = unsafe format else { return 0 }
        var text = unsafe withUnsafeTemporaryAllocation(of: CChar.self, capacity: 512) { buffer -> String in
            guard let base = buffer.baseAddress else { return "" }
            _ = unsafe vsnprintf(base, buffer.count, format, arguments)
            return unsafe String(cString: base)
        }
        while let last = text.last, last == "\n" || last == " " { text.removeLast() }
        if text.isEmpty || noise.contains(where: { text.contains($0) }) { return 0 }
        lines.withLock {
            if $0.count == keep { $0.removeFirst() }
            $0.append(text)
        }
        return 0
    }
}
