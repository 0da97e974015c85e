// `sluicectl list`: ipvsadm -Ln, --stats or --rate, with a Health column on the plain listing.

import ArgumentParser
import SluiceAdmin

struct ListCommand: AdminCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List virtual and real servers as ipvsadm -Ln does (GET /v1/services).",
        discussion: """
            The plain listing adds a Health column after ipvsadm's: up, down or static, HAProxy's code of \
            the last check, and drain, maint or sorry when they apply.
            """)

    /// ipvsadm's --stats and --rate, one or neither.
    enum Counters: String, EnumerableFlag {
        case stats, rate

        static func help(for value: Counters) -> ArgumentHelp? {
            switch value {
            case .stats: "Totals since start (ipvsadm --stats): Conns, InPkts, OutPkts, InBytes, OutBytes."
            case .rate: "Rates per second (ipvsadm --rate): CPS, InPPS, OutPPS, InBPS, OutBPS."
            }
        }
    }

    @OptionGroup var global: GlobalOptions

    @Flag var counters: Counters?

    @Flag(help: "Numbers in full, without ipvsadm's K/M/G/T scaling (ipvsadm --exact).")
    var exact = false

    @Flag(help: "Print the API's JSON instead of the listing.")
    var json = false

    func perform(with client: AdminClient) async throws {
        let services = try await client.get(AdminPaths.services, as: [VirtualServerStatus].self)
        if json { return try Output.json(services) }
        let layout: IPVSListing.Layout =
            switch counters {
            case .stats: .stats
            case .rate: .rate
            case nil: .plain
            }
        Output.text(IPVSListing.services(services, layout: layout, exact: exact, health: true))
    }
}
