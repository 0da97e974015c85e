// `sluicectl reload`: what SIGHUP does, with the outcome in the answer instead of the log.

import ArgumentParser
import SluiceAdmin

struct ReloadCommand: AdminCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Re-read the configuration file and apply the difference (POST /v1/reload).",
        discussion: """
            Prints each change applied. When the file is invalid or a key that needs a restart changed, \
            nothing is applied: the problems go to stderr and the exit status is 1.
            """)

    @OptionGroup var global: GlobalOptions

    func perform(with client: AdminClient) async throws {
        // A refused reload is 409 with a ReloadResult, not an APIError: its problems are the answer.
        let result = try await client.send(.POST, AdminPaths.reload, as: ReloadResult.self, alsoAccepting: [409])
        guard result.applied else {
            Output.error("reload refused, nothing changed:")
            for problem in result.problems { Output.errorDetail("  \(problem)") }
            throw ExitCode.failure
        }
        if result.changes.isEmpty { print("reload: no changes") }
        for change in result.changes { print(change) }
    }
}
