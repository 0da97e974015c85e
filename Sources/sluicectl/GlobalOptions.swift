// The options every sluicectl command shares: where the daemon's admin socket is.

import ArgumentParser
import Foundation
import SluiceAdmin

struct GlobalOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The admin API's unix socket (default: $SLUICE_ADMIN_SOCKET, else \(AdminPaths.defaultSocket)).",
            valueName: "path"),
        completion: .file())
    var socket: String?

    /// The option, then the environment (so a shell or a unit can point every call elsewhere), then the
    /// daemon's default.
    var socketPath: String {
        if let socket { return socket }
        if let fromEnvironment = ProcessInfo.processInfo.environment["SLUICE_ADMIN_SOCKET"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        return AdminPaths.defaultSocket
    }

    var client: AdminClient { AdminClient(socketPath: socketPath) }
}
