// `sluicectl announce`: which VIPs this gateway announces to its routers, and why not the others.

import ArgumentParser
import SluiceAdmin

struct AnnounceCommand: AdminCommand {
    static let configuration = CommandConfiguration(
        commandName: "announce",
        abstract: "Show whether each VIP is announced to the routers, and why (GET /v1/announce).")

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Print the API's JSON instead of the table.")
    var json = false

    func perform(with client: AdminClient) async throws {
        let decisions = try await client.get(AdminPaths.announce, as: [VIPAnnouncement].self)
        if json { return try Output.json(decisions) }
        Output.text(IPVSListing.announcements(decisions))
    }
}
