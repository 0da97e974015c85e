// The `sluice` executable: `run` (the daemon, in the foreground) and `check` (validate a config).
// Offline commands never touch the network; `run` needs root or CAP_NET_ADMIN, CAP_BPF,
// CAP_NET_RAW and CAP_IPC_LOCK.

import ArgumentParser
import SluiceControl

@main
struct SluiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice",
        abstract: "A FULLNAT layer-4 load-balancing gateway on AF_XDP.",
        version: SluiceVersion.current,
        subcommands: [RunCommand.self, CheckCommand.self, GuardCommand.self]
    )
}
