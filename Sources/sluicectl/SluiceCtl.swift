// sluicectl: the admin API's command-line client. Each subcommand is one request to the daemon over its
// unix socket (see AdminClient); the text it prints is ipvsadm's layout where ipvsadm has one
// (SluiceAdmin's IPVSListing), and `--json` prints the API's own answer.

import ArgumentParser
import SluiceAdmin

@main
struct SluiceCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluicectl",
        abstract: "Look at and steer a running Sluice gateway through its admin API.",
        discussion: """
            Talks HTTP/1.1 and JSON to the daemon's admin socket (--socket, else $SLUICE_ADMIN_SOCKET, else \
            \(AdminPaths.defaultSocket)), one request per command. Listings follow ipvsadm's layouts; --json \
            prints the API's answer instead (docs/admin-api.yaml). Exit status 1 when the daemon cannot be \
            reached or refuses the request.
            """,
        subcommands: [
            ListCommand.self, ConnectionsCommand.self, LaddrCommand.self, ServerCommand.self, ReloadCommand.self,
            ExplainCommand.self, HealthCommand.self, AnnounceCommand.self, DrainCommand.self, SyncCommand.self,
        ]
    )

    @OptionGroup var global: GlobalOptions
}
