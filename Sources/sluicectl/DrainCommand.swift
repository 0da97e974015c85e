// `sluicectl drain on|off`: withdraw every VIP of this gateway (live connections finish), or end that.

import ArgumentParser
import SluiceAdmin

struct DrainCommand: AdminCommand {
    static let configuration = CommandConfiguration(
        commandName: "drain",
        abstract: "Withdraw every VIP from the routers (on) or announce them again (off) (PUT /v1/drain).",
        discussion: """
            Connections in progress keep being forwarded. A drain file (announce.drain_file) drains too, \
            whatever this says; `off` cannot end that.
            """)

    enum Setting: String, ExpressibleByArgument, CaseIterable {
        case on
        case off
    }

    @OptionGroup var global: GlobalOptions

    @Argument(help: "on or off.")
    var setting: Setting

    func perform(with client: AdminClient) async throws {
        let state = try await client.send(
            .PUT, AdminPaths.drain, body: DrainState(drain: setting == .on), as: DrainState.self)
        print("drain: \(state.drain ? "on" : "off")" + (state.drainFile == true ? " (drain file present)" : ""))
    }
}
