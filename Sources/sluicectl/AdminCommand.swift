// What every sluicectl command that calls the daemon has in common: the shared options and one way
// to fail. An error of the call becomes one line on stderr and exit status 1, not ArgumentParser's
// "Error:" with a usage hint (the command line was fine; the daemon said no or was not there).

import ArgumentParser

protocol AdminCommand: AsyncParsableCommand {
    var global: GlobalOptions { get }

    /// The command's request(s) and output.
    func perform(with client: AdminClient) async throws
}

extension AdminCommand {
    func run() async throws {
        do {
            try await perform(with: global.client)
        } catch let error as AdminClientError {
            Output.error(error.description)
            throw ExitCode.failure
        }
    }
}
