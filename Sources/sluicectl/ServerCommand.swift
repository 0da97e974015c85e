// `sluicectl server ...`: runtime changes to one real server.

import ArgumentParser

struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Change a real server at run time.",
        subcommands: [ServerSetCommand.self])
}
