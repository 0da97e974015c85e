// Checks of the host made once at start, before anything is attached, for mistakes that would
// otherwise show up as traffic that silently goes wrong:
// - a LIP that is one of the host's own addresses: the kernel would take the real servers' replies
//   for its own sockets (error);
// - IP forwarding on in the gateway's namespace: frames passed to the kernel would leave
//   untranslated, so what looks forwarded was not forwarded by Sluice (warning);
// - a UMEM frame smaller than an interface's MTU plus its link header: such frames cannot be
//   received whole (error);
// - a kernel older than the XDP program needs (`minimumKernel`: bpf_loop and bpf_xdp_load_bytes
//   came in 5.17 and 5.18) (error).
// The host is read from /proc (a root of the caller's choice, so tests use a folder of fixtures).

import Foundation
import SluiceCore
import SluicePacket

/// Start-up checks of the host against a configuration.
public enum HostChecks {
    /// The oldest kernel whose verifier and helpers the steering program needs.
    public static let minimumKernel = (major: 5, minor: 18)
    /// Ethernet header plus one VLAN tag: what a frame holds beyond the MTU.
    static let linkOverhead = 18

    public struct Report: Sendable {
        public var errors: [String] = []
        public var warnings: [String] = []
    }

    public static func run(
        _ configuration: SluiceConfiguration, interfaces: [(name: String, mtu: Int)], kernelRelease: String,
        procRoot: String = "/proc"
    ) -> Report {
        var report = Report()
        let own = hostAddresses(procRoot: procRoot)
        for group in configuration.localAddressGroups {
            for lip in group.addresses where own.contains(lip) {
                report.errors.append(
                    "local_address_groups.\(group.name): \(lip) is an address of this host; the kernel would take "
                        + "the real servers' replies. Use addresses the host does not own (routed to it).")
            }
        }
        for (path, label) in [("sys/net/ipv4/ip_forward", "IPv4"), ("sys/net/ipv6/conf/all/forwarding", "IPv6")] {
            let value = (try? String(contentsOfFile: "\(procRoot)/\(path)", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
            if value == "1" {
                report.warnings.append(
                    "\(label) forwarding is on (\(path.replacingOccurrences(of: "/", with: ".").dropFirst(4))): "
                        + "frames the XDP program passes to the kernel may leave untranslated; turn it off on a gateway"
                )
            }
        }
        if let problem = MemoryEstimate(configuration).problem(procRoot: procRoot) { report.errors.append(problem) }
        let frame = configuration.dataplane.frameSize
        for interface in interfaces where interface.mtu + linkOverhead > frame {
            report.errors.append(
                "interface \(interface.name) has MTU \(interface.mtu): dataplane.frame_size \(frame) cannot hold "
                    + "\(interface.mtu + linkOverhead)-byte frames; use frame_size 4096 or a smaller MTU")
        }
        if let version = kernelVersion(kernelRelease),
            version.major < minimumKernel.major
                || (version.major == minimumKernel.major && version.minor < minimumKernel.minor)
        {
            report.errors.append(
                "kernel \(kernelRelease) is older than \(minimumKernel.major).\(minimumKernel.minor), "
                    + "the oldest whose BPF helpers the steering program uses")
        }
        return report
    }

    /// `6.18.44-foo` → (6, 18).
    static func kernelVersion(_ release: String) -> (major: Int, minor: Int)? {
        let parts = release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        return parts.count == 2 ? (parts[0], parts[1]) : nil
    }

    /// The host's own addresses: IPv4 from the LOCAL entries of /proc/net/fib_trie, IPv6 from
    /// /proc/net/if_inet6.
    static func hostAddresses(procRoot: String) -> Set<IPAddress> {
        var out: Set<IPAddress> = []
        if let trie = try? String(contentsOfFile: "\(procRoot)/net/fib_trie", encoding: .utf8) {
            var candidate: IPAddress?
            for line in trie.split(separator: "\n") {
                let text = line.trimmingCharacters(in: .whitespaces)
                if text.hasPrefix("|-- ") {
                    candidate = IPAddress(String(text.dropFirst(4)))
                } else if text.hasPrefix("/32 host LOCAL"), let address = candidate {
                    out.insert(address)
                }
            }
        }
        if let inet6 = try? String(contentsOfFile: "\(procRoot)/net/if_inet6", encoding: .utf8) {
            for line in inet6.split(separator: "\n") {
                guard let hex = line.split(separator: " ").first, hex.count == 32 else { continue }
                var groups: [String] = []
                var index = hex.startIndex
                for _ in 0..<8 {
                    let end = hex.index(index, offsetBy: 4)
                    groups.append(String(hex[index..<end]))
                    index = end
                }
                if let address = IPAddress(groups.joined(separator: ":")) { out.insert(address) }
            }
        }
        return out
    }
}
