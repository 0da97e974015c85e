// `sluicectl server set SERVICE ADDRESS:PORT --weight N --state ready|drain|maint`: the runtime weight
// and admin state the daemon keeps across reloads while the server stays in the file.

import ArgumentParser
import SluiceAdmin

struct ServerSetCommand: AdminCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Set a real server's weight and/or admin state (PATCH /v1/services/{name}/servers/{address}/{port}).",
        discussion: """
            drain: no new connections, existing ones go on. maint: no new connections either, and the \
            server is reported in maintenance. ready: back to the configured weight and scheduling.
            """)

    enum State: String, ExpressibleByArgument, CaseIterable {
        case ready, drain, maint
    }

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The virtual server's name.", valueName: "service"))
    var service: String

    @Argument(
        help: ArgumentHelp("The real server, IPv6 in brackets ([fd00::1]:8080).", valueName: "address:port"),
        transform: AdminEndpoint.argument)
    var endpoint: AdminEndpoint

    @Option(help: ArgumentHelp("The weight to schedule with, 0...65535.", valueName: "n"))
    var weight: UInt32?

    @Option(help: "The admin state.")
    var state: State?

    func validate() throws {
        if weight == nil && state == nil { throw ValidationError("give --weight, --state or both") }
        if let weight, weight > 65_535 { throw ValidationError("--weight must be in 0...65535") }
    }

    func perform(with client: AdminClient) async throws {
        let server = try await client.send(
            .PATCH, AdminPaths.server(service: service, address: endpoint.address, port: endpoint.port),
            body: ServerUpdate(weight: weight, state: state?.rawValue), as: RealServerStatus.self)
        // The admin state is said once, so the health part is the checker's alone (not healthText).
        let check = server.health
        let health = check.state == "static" ? check.state : "\(check.state) \(check.status)"
        print(
            "\(service) \(IPVSListing.endpoint(server.address, server.port)): \(server.adminState), weight "
                + "\(server.weight) (configured \(server.configuredWeight)), health \(health)")
    }
}
