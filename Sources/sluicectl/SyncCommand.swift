// `sluicectl sync`: connection sync's peers and totals (GET /v1/sync).

import ArgumentParser
import SluiceAdmin

struct SyncCommand: AdminCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Show connection sync: each peer alive or dead, whose LIPs are answered here (GET /v1/sync).")

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Print the API's JSON instead of the table.")
    var json = false

    func perform(with client: AdminClient) async throws {
        let status = try await client.get(AdminPaths.sync, as: SyncStatus.self)
        if json { return try Output.json(status) }
        Output.text(IPVSListing.sync(status))
    }
}
