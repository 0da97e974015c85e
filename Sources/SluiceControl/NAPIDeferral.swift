// `dataplane.napi_defer_hard_irqs` and `dataplane.gro_flush_timeout`: the kernel's NAPI interrupt
// deferral on the interfaces Sluice serves, written to /sys/class/net/IF/ once the XDP program is attached
// and put back as it was when Sluice stops.
//
// Why a gateway wants it: without deferral, every frame that finds an interface's NAPI idle schedules it
// again (on a NIC an interrupt, on veth a wake-up of the NAPI thread), and the poll that follows finds
// one or two frames. With `napi_defer_hard_irqs` N and `gro_flush_timeout` T, a poll that found work
// keeps the NAPI scheduled and polls again after T instead, up to N times, so frames that arrive
// meanwhile are taken in one batch and nobody is woken for them. In copy mode that batch is what a worker
// then reads from its rx ring. Measured on this project's veth lab (Perf/README.md): the gateway's CPU per
// new connection halves, for Sluice and for the kernel's own forwarding alike. The price is latency for a
// frame that arrives while a deferral runs: up to T. Real NICs moderate interrupts in hardware as well;
// this is the software knob on top (Documentation/networking/napi.rst in the kernel tree).
//
// Busy polling (SO_PREFER_BUSY_POLL) would let the worker run the NAPI poll itself, but the kernel gives
// an AF_XDP socket a NAPI to busy-poll only in zero-copy mode (xsk_bind), so on veth and every copy-mode
// driver it does nothing: checked with the napi:napi_poll tracepoint, no poll ran on a worker thread.

import Foundation

/// NAPI interrupt deferral for the interfaces Sluice serves.
public struct NAPIDeferral: Sendable, Hashable {
    /// Polls a NAPI may defer re-arming its interrupt after one that found work (`napi_defer_hard_irqs`).
    public var hardIRQs: Int
    /// How long each deferral waits before the next poll, in nanoseconds (`gro_flush_timeout`).
    public var flushTimeoutNanoseconds: Int

    /// Where the kernel shows each interface's settings.
    public static let sysfsRoot = "/sys/class/net"
    /// The kernel's limit of `napi_defer_hard_irqs` (S32_MAX).
    public static let hardIRQsRange = 0...Int(Int32.max)
    /// A deferral longer than 10 ms would hold a quiet queue's frames for a time anyone notices.
    public static let flushTimeoutRange = 0...10_000_000

    static let hardIRQsFile = "napi_defer_hard_irqs"
    static let flushTimeoutFile = "gro_flush_timeout"

    public init(hardIRQs: Int, flushTimeoutNanoseconds: Int) {
        self.hardIRQs = hardIRQs
        self.flushTimeoutNanoseconds = flushTimeoutNanoseconds
    }

    /// An interface's two values as they were before Sluice wrote its own.
    public struct Saved: Sendable, Hashable {
        public let interface: String
        public let hardIRQs: String
        public let flushTimeout: String
    }

    /// Why the deferral could not be set.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// Writes the deferral to every interface of `interfaces` (each once) and returns what they had.
    /// All or nothing: after a failure, the interfaces already written are put back.
    public func apply(to interfaces: [String], root: String = sysfsRoot) throws(Failure) -> [Saved] {
        var saved: [Saved] = []
        var seen: Set<String> = []
        for interface in interfaces where seen.insert(interface).inserted {
            do {
                let previous = try Saved(
                    interface: interface, hardIRQs: Self.read(Self.hardIRQsFile, of: interface, root: root),
                    flushTimeout: Self.read(Self.flushTimeoutFile, of: interface, root: root))
                // The timeout first: a deferral count with the old timeout of 0 would do nothing anyway.
                try Self.write(String(flushTimeoutNanoseconds), to: Self.flushTimeoutFile, of: interface, root: root)
                saved.append(previous)
                try Self.write(String(hardIRQs), to: Self.hardIRQsFile, of: interface, root: root)
            } catch {
                _ = Self.restore(saved, root: root)
                throw error
            }
        }
        return saved
    }

    /// Puts back what `apply` found; returns a line for each value it could not write.
    @discardableResult
    public static func restore(_ saved: [Saved], root: String = sysfsRoot) -> [String] {
        var problems: [String] = []
        for entry in saved.reversed() {
            for (file, value) in [(hardIRQsFile, entry.hardIRQs), (flushTimeoutFile, entry.flushTimeout)] {
                do throws(Failure) {
                    try write(value, to: file, of: entry.interface, root: root)
                } catch {
                    problems.append(error.description)
                }
            }
        }
        return problems
    }

    static func read(_ file: String, of interface: String, root: String) throws(Failure) -> String {
        let path = "\(root)/\(interface)/\(file)"
        do {
            return try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            throw Failure(
                description: "cannot read \(path) (\(reason(error))): the kernel offers no NAPI deferral for "
                    + "\(interface); leave dataplane.napi_defer_hard_irqs and gro_flush_timeout out")
        }
    }

    /// Replaces the file's value, as `echo VALUE > FILE` does (sysfs takes the whole value in one write;
    /// not atomic, since a file cannot be renamed over a sysfs attribute).
    static func write(_ value: String, to file: String, of interface: String, root: String) throws(Failure) {
        let path = "\(root)/\(interface)/\(file)"
        guard FileManager.default.fileExists(atPath: path) else {
            throw Failure(description: "cannot write \(value) to \(path) (no such file)")
        }
        do {
            try Data((value + "\n").utf8).write(to: URL(fileURLWithPath: path))
        } catch {
            throw Failure(description: "cannot write \(value) to \(path) (\(reason(error)))")
        }
    }

    /// The errno behind a Foundation file error, by name (ENOENT, EINVAL, ...), else its own words.
    private static func reason(_ error: any Error) -> String {
        let ns = error as NSError
        let posix =
            ns.domain == NSPOSIXErrorDomain
            ? ns
            : (ns.userInfo[NSUnderlyingErrorKey] as? NSError).flatMap {
                $0.domain == NSPOSIXErrorDomain ? $0 : nil
            }
        if let posix, let code = POSIXErrorCode(rawValue: Int32(posix.code)) { return "\(code)" }
        if ns.domain == NSCocoaErrorDomain,
            ns.code == CocoaError.fileReadNoSuchFile.rawValue || ns.code == CocoaError.fileNoSuchFile.rawValue
        {
            return "no such file"
        }
        return ns.localizedDescription
    }
}
