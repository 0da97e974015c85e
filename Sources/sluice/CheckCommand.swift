// `sluice check --config FILE`: every problem with its key path, exit status 1 when any.

import ArgumentParser
import SluiceControl

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Validate a configuration file and report every problem.")

    @Option(name: .shortAndLong, help: "The YAML configuration file.")
    var config: String

    @Flag(name: .shortAndLong, help: "Also print the start-up summary of a valid file.")
    var verbose = false

    func run() throws {
        let result = ConfigurationCheck.run(path: config, verbose: verbose)
        for line in result.lines { print(line) }
        if !result.isValid { throw ExitCode(result.exitCode) }
    }
}
