// `sluicectl laddr`: the local addresses' ports, as dpvs's ipvsadm -G shows them.

import ArgumentParser
import SluiceAdmin

struct LaddrCommand: AdminCommand {
    static let configuration = CommandConfiguration(
        commandName: "laddr",
        abstract: "List local addresses (LIPs) and their ports as dpvs's ipvsadm -G does (GET /v1/laddr).",
        discussion: """
            CONFLICTS counts allocations that found no free port, CONNS the ports in use, FREE the ports left.
            """)

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Print the API's JSON instead of the table.")
    var json = false

    func perform(with client: AdminClient) async throws {
        let usage = try await client.get(AdminPaths.localAddresses, as: [LocalAddressUsage].self)
        if json { return try Output.json(usage) }
        Output.text(IPVSListing.localAddresses(usage))
    }
}
