// `sluice check FILE` (like `keepalived -t`, `haproxy -c`): the executable prints `lines` and exits
// with `exitCode`, so the wording and exit status are tested here, without a process.

import Foundation
import SluiceXDP

/// The outcome of checking a configuration file.
public struct ConfigurationCheck: Sendable {
    /// True when the file loads; warnings do not make it invalid.
    public var isValid: Bool
    /// The report, one line each: problems as `FILE: keyPath: message`, or a summary and warnings.
    public var lines: [String]
    /// 0 when valid, 1 otherwise.
    public var exitCode: Int32 { isValid ? 0 : 1 }

    /// Loads `path` and reports every problem; with `verbose`, a valid file also gets the start-up
    /// summary.
    public static func run(
        path: String, verbose: Bool = false, procRoot: String = "/proc", sysRoot: String = "/sys",
        cpuCount: Int = ProcessInfo.processInfo.activeProcessorCount
    ) -> ConfigurationCheck {
        do {
            // Sized as `sluice run` would size it now (workers per RX queue when the file does not say).
            let config = ReceiveQueues.resolvingWorkers(
                try ConfigurationLoader.load(path: path), cpuCount: cpuCount, sysRoot: sysRoot
            ).configuration
            let workers = config.dataplane.workers
            if config.dataplane.ntupleRules, workers > 1, !NtupleRule.canSteer(workers: workers) {
                return ConfigurationCheck(
                    isValid: false,
                    lines: [
                        "\(path): dataplane.ntuple_rules needs a power-of-two worker count, and the RX queues make "
                            + "\(workers) workers; " + NtupleRule.workerAdvice(workers: workers)
                    ])
            }
            let rsCount = config.virtualServers.reduce(0) { $0 + $1.realServers.count }
            var lines = [
                "\(path): OK: \(config.virtualServers.count) virtual servers, \(rsCount) real servers, "
                    + "\(config.localAddressGroups.count) local address groups"
            ]
            let memory = MemoryEstimate(config)
            lines.append("\(path): memory: \(memory.description) preallocated")
            if let problem = memory.problem(procRoot: procRoot) {
                return ConfigurationCheck(isValid: false, lines: ["\(path): \(problem)"])
            }
            lines += config.warnings.map { "\(path): warning: \($0)" }
            if verbose {
                lines += StartupSummary.describe(config).filter { !$0.hasPrefix("warning: ") }
            }
            return ConfigurationCheck(isValid: true, lines: lines)
        } catch {
            let count = error.problems.count
            var lines = error.problems.map { $0.line(file: error.file) }
            if count > 1 {
                lines.append("\(error.file): \(count) problems")
            }
            return ConfigurationCheck(isValid: false, lines: lines)
        }
    }
}
