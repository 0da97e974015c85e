// `sluicectl health`: every real server's check, by virtual server.

import ArgumentParser
import SluiceAdmin

struct HealthCommand: AdminCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Show the health of every real server, by virtual server (GET /v1/health).")

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Print the API's JSON instead of the table.")
    var json = false

    func perform(with client: AdminClient) async throws {
        let services = try await client.get(AdminPaths.health, as: [VirtualServerStatus].self)
        if json { return try Output.json(services) }
        Output.text(IPVSListing.health(services))
    }
}
