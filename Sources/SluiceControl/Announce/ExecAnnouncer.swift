// `announce.method: exec`: a program run once per VIP whose state changed, with SLUICE_VIP and
// SLUICE_STATE (`announce` or `withdraw`) in its environment (ExaBGP's `--execute`, keepalived's
// notify scripts). Its exit status is logged by the caller through the thrown error.

import Foundation
import SluicePacket

/// Announces VIPs by running a hook program.
public actor ExecAnnouncer: RouteAnnouncer {
    let command: [String]
    private var announced: Set<IPAddress> = []

    /// The hook did not succeed.
    public struct Failure: Error, CustomStringConvertible {
        public let vip: IPAddress
        public let status: Int32
        public var description: String { "hook for \(vip) exited \(status)" }
    }

    public init(command: [String]) {
        self.command = command
    }

    public func apply(_ vips: [IPAddress]) async throws {
        let wanted = Set(vips)
        let changes =
            wanted.subtracting(announced).map { ($0, "announce") }
            + announced.subtracting(wanted).map { ($0, "withdraw") }
        for (vip, state) in changes.sorted(by: { $0.0 < $1.0 }) {
            let status = run(vip: vip, state: state)
            guard status == 0 else { throw Failure(vip: vip, status: status) }
            if state == "announce" { announced.insert(vip) } else { announced.remove(vip) }
        }
    }

    private func run(vip: IPAddress, state: String) -> Int32 {
        guard let program = command.first else { return 127 }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = Array(command.dropFirst())
        var environment = ProcessInfo.processInfo.environment
        environment["SLUICE_VIP"] = vip.description
        environment["SLUICE_STATE"] = state
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return 127
        }
        process.waitUntilExit()
        return process.terminationStatus
    }
}
