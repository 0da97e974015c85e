// `sluicectl explain tcp|udp CLIENT:PORT VIP:PORT`: where the data plane would send a new flow, and
// the connection that already owns the tuple if there is one.

import ArgumentParser
import SluiceAdmin

struct ExplainCommand: AdminCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Show where a new flow would go and any connection that owns it (GET /v1/explain).")

    enum TransportProtocol: String, ExpressibleByArgument, CaseIterable {
        case tcp, udp
    }

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The transport protocol.")
    var `protocol`: TransportProtocol

    @Argument(
        help: ArgumentHelp("The client's address and port, IPv6 in brackets.", valueName: "client:port"),
        transform: AdminEndpoint.argument)
    var clientEndpoint: AdminEndpoint

    @Argument(
        help: ArgumentHelp("The virtual server's address and port.", valueName: "vip:port"),
        transform: AdminEndpoint.argument)
    var vipEndpoint: AdminEndpoint

    @Flag(help: "Print the API's JSON instead of the text.")
    var json = false

    func perform(with client: AdminClient) async throws {
        let path = AdminPaths.explainQuery(protocol: self.protocol.rawValue, client: clientEndpoint, vip: vipEndpoint)
        let result = try await client.get(path, as: ExplainResult.self)
        if json { return try Output.json(result) }
        Output.text(result.text)
    }
}
