// Every RX queue of a data-plane interface must have a socket (docs/afxdp.md): an AF_XDP socket
// receives only the frames of the queue it is bound to, and the XDP program passes a frame of a queue
// without a socket to the kernel, where (IP forwarding being off) it silently goes nowhere, or with
// forwarding on leaves untranslated. So at start Sluice counts each interface's RX queues (the kernel's
// `queues/rx-N` entries in sysfs, which follow `ethtool -L`) and refuses to run with fewer bound. In
// skb (generic) mode every frame arrives on queue 0, so one socket serves them all.

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
