// `sluicectl connections`: ipvsadm -Lnc with the local address, filtered by the daemon.

import ArgumentParser
import SluiceAdmin

struct ConnectionsCommand: AdminCommand {
    static let configuration = CommandConfiguration(
        commandName: "connections",
        abstract: "List connections as ipvsadm -Lnc does, with the local address (GET /v1/connections).")

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("Only this virtual server's connections.", valueName: "name"))
    var service: String?

    @Option(
        help: ArgumentHelp(
            "Only connections to this real server (IPv6 in brackets with a port).", valueName: "address[:port]"),
        transform: Self.server)
    var server: (address: String, port: UInt16?)?

    @Option(help: ArgumentHelp("Only connections from this client address.", valueName: "address"))
    var client: String?

    @Option(help: ArgumentHelp("At most this many connections (the daemon's default is 1000).", valueName: "n"))
    var limit: Int?

    @Flag(help: "Print the API's JSON (with total, offset and limit) instead of the listing.")
    var json = false

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if let client, !AdminEndpoint.isAddress(client) {
            throw ValidationError("--client must be an IP address")
        }
    }

    /// ADDRESS or ADDRESS:PORT; the API takes the address and the port as parameters of their own.
    static func server(_ text: String) throws -> (address: String, port: UInt16?) {
        if AdminEndpoint.isAddress(text) { return (text, nil) }
        let endpoint = try AdminEndpoint.argument(text)
        return (endpoint.address, endpoint.port)
    }

    func perform(with client: AdminClient) async throws {
        let path = AdminPaths.connectionsQuery(
            service: service, server: server?.address, serverPort: server?.port, client: self.client, limit: limit)
        let page = try await client.get(path, as: ConnectionPage.self)
        if json { return try Output.json(page) }
        Output.text(IPVSListing.connections(page.connections))
        // The listing stays ipvsadm's; that it is partial goes to stderr, where a pipe does not see it.
        if page.offset + page.connections.count < page.total {
            Output.error("\(page.connections.count) of \(page.total) connections shown (--limit for more)")
        }
    }
}
