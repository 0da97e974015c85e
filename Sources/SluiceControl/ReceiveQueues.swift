// Every RX queue of a data-plane interface must have a socket (docs/afxdp.md): an AF_XDP socket
// receives only the frames of the queue it is bound to, and the XDP program passes a frame of a queue
// without a socket to the kernel, where (IP forwarding being off) it silently goes nowhere, or with
// forwarding on leaves untranslated. So at start Sluice counts each interface's RX queues (the kernel's
// `queues/rx-N` entries in sysfs, which follow `ethtool -L`) and refuses to run with fewer bound. In
// skb (generic) mode every frame arrives on queue 0, so one socket serves them all.
//
// Without `dataplane.workers` in the file Sluice runs one worker per RX queue, as many as the interfaces
// have (the larger count when they differ), but no more than the CPUs it may use (`dataplane.cpus`, or
// the CPUs of the process's affinity mask): more workers than cores would only take turns. When that
// bound leaves queues unserved, the check above refuses to start and says how to fix it.

import Foundation
import SluiceXDP

/// RX queue coverage of the data-plane interfaces.
public enum ReceiveQueues {
    /// RX queues the kernel has for `interface` now; nil when sysfs does not say.
    public static func count(interface: String, sysRoot: String = "/sys") -> Int? {
        let path = "\(sysRoot)/class/net/\(interface)/queues"
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: path) else { return nil }
        let rx = entries.filter { $0.hasPrefix("rx-") }.count
        return rx > 0 ? rx : nil
    }

    /// The configuration with `dataplane.workers` decided when the file leaves it out, and a line saying
    /// what was decided (nil when the file set it).
    /// - Parameter cpuCount: CPUs the process may run on (used when `dataplane.cpus` is empty).
    public static func resolvingWorkers(
        _ configuration: SluiceConfiguration, cpuCount: Int, sysRoot: String = "/sys"
    ) -> (configuration: SluiceConfiguration, note: String?) {
        guard !configuration.dataplane.workersConfigured else { return (configuration, nil) }
        let interfaces = Array(Set([configuration.interfaces.external, configuration.interfaces.internal])).sorted()
        let queues = interfaces.compactMap { count(interface: $0, sysRoot: sysRoot) }.max() ?? 1
        let cpus = configuration.dataplane.cpus.isEmpty ? cpuCount : Set(configuration.dataplane.cpus).count
        var resolved = configuration
        resolved.dataplane.workers = Swift.max(1, Swift.min(queues, cpus, maximumWorkers))
        let noun = resolved.dataplane.workers == 1 ? "worker" : "workers"
        return (
            resolved,
            "dataplane.workers not set: \(resolved.dataplane.workers) \(noun) for \(queues) RX queue(s) of "
                + "\(interfaces.joined(separator: ", ")) and \(cpus) CPU(s)"
        )
    }

    /// The most workers a configuration may ask for (`dataplane.workers`).
    public static let maximumWorkers = 256

    /// The refusal when `bound` sockets per interface leave some RX queue of an interface unserved.
    public static func problem(interfaces: [String], bound: Int, mode: XDPMode, sysRoot: String = "/sys") -> String? {
        guard mode != .skb else { return nil }
        for interface in interfaces {
            guard let queues = count(interface: interface, sysRoot: sysRoot), queues > bound else { continue }
            return "interface \(interface) has \(queues) RX queues but Sluice binds \(bound) "
                + "(dataplane.workers / dataplane.queues): frames on queues \(bound)-\(queues - 1) would reach the "
                + "kernel unforwarded. Bind every queue (dataplane.workers: \(queues)) or give the interface "
                + "\(bound) (ethtool -L \(interface) combined \(bound), or rx \(bound) where the driver counts RX "
                + "channels)."
        }
        return nil
    }
}
