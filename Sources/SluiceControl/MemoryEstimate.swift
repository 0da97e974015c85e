// What a configuration makes Sluice allocate up front, so that `sluice check` can print it and both
// `check` and `run` can refuse a configuration the host cannot hold (a connection capacity of 2^24 per
// worker is a valid number and 3.4 GB of memory). The figures are the sizes the data plane allocates:
// connection entries with their index and timer slots (about 155 bytes each, measured by Perf's
// memory-probe), the UMEM (frames x frame size per worker), the SYN-proxy hold slots, the
// persistence template table, and the fragment table with each worker's fragment hold.

import SluiceCore

/// Memory preallocated for a configuration, in bytes.
public struct MemoryEstimate: Sendable, Equatable {
    /// Bytes per connection-table entry, its index slots and its timer: Perf/README.md's memory-probe
    /// measured 154 bytes at 10^6 connections (17 LIPs' reply index included).
    public static let bytesPerConnection = 160
    /// Bytes of one SYN-proxy hold slot.
    public static let bytesPerHeldSegment = 2048

    public var connectionTables: Int
    public var umem: Int
    public var heldSegments: Int
    public var templates: Int
    public var fragments: Int
    public var total: Int { connectionTables + umem + heldSegments + templates + fragments }

    public init(_ configuration: SluiceConfiguration) {
        let dp = configuration.dataplane
        let workers = max(dp.workers, 1)
        connectionTables = workers * dp.connectionCapacity * Self.bytesPerConnection
        umem = workers * dp.frames * dp.frameSize
        let slots = configuration.synProxy.heldSegmentSlots
        let perWorker = slots > 0 ? slots : min(max(dp.connectionCapacity / 8, 64), 4096)
        heldSegments = workers * perWorker * Self.bytesPerHeldSegment
        templates = PersistenceTemplates.slotCount * 16
        fragments = FragmentTable.bytes + workers * FragmentHold.slotCount * FragmentHold.slotSize
    }

    /// `about 229 MiB (connection tables 200 MiB, UMEM 8 MiB, ...)`.
    public var description: String {
        func mib(_ bytes: Int) -> String { "\((bytes + (1 << 20) - 1) >> 20) MiB" }
        return "about \(mib(total)) (connection tables \(mib(connectionTables)), UMEM \(mib(umem)), "
            + "SYN-proxy hold slots \(mib(heldSegments)), persistence templates \(mib(templates)), "
            + "fragments \(mib(fragments)))"
    }

    /// MemAvailable from `procRoot`/meminfo, in bytes; nil when it cannot be read.
    public static func available(procRoot: String = "/proc") -> Int? {
        guard let text = try? String(contentsOfFile: "\(procRoot)/meminfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            let fields = line.split(separator: " ")
            guard fields.count >= 2, let kib = Int(fields[1]) else { return nil }
            return kib * 1024
        }
        return nil
    }

    /// The refusal when the host cannot hold this, or nil.
    public func problem(procRoot: String = "/proc") -> String? {
        guard let available = Self.available(procRoot: procRoot), total > available else { return nil }
        return "the configuration preallocates \(description), more than the \(available >> 20) MiB this host "
            + "has available; lower dataplane.connection_capacity, dataplane.frames or dataplane.workers"
    }
}
