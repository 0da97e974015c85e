// `sluice guard`: the crash guard of route announcement. `sluice run` starts it as a child with a pipe
// on its standard input and keeps the pipe's other end open for its whole life. When `sluice run`
// ends in any way, the kernel closes that end: the guard reads end-of-file, empties BIRD's include
// files and sends `configure`, so the VIPs are withdrawn within moments of a crash (SIGKILL, a
// fatal error) without systemd or anything else running. A graceful stop withdraws first and then
// writes `quit`, and the guard leaves without touching anything.

import ArgumentParser
import Foundation
import SluiceControl

#if canImport(Glibc)
    import Glibc
#endif

struct GuardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "guard",
        abstract: "Withdraw the VIPs from BIRD when the sluice run holding standard input dies (started by run).")

    @Option(help: "BIRD's control socket.")
    var controlSocket: String

    @Option(help: "The IPv4 include file.")
    var includeFile: String

    @Option(help: "The IPv6 include file.")
    var includeFile6: String

    /// What stopped the wait: the parent's `quit`, or its end.
    enum Ending { case quit, parentGone }

    func run() async throws {
        // A terminal's Ctrl-C or hang-up goes to the whole process group: the parent handles those.
        signal(SIGINT, SIG_IGN)
        signal(SIGHUP, SIG_IGN)
        let ending = await Task.detached { Self.waitForParent() }.value
        guard ending == .parentGone else { return }
        for file in [includeFile, includeFile6] {
            try? BirdAnnouncer.includeText([]).write(toFile: file, atomically: true, encoding: .utf8)
        }
        do {
            _ = try await BirdControl.run("configure", socket: controlSocket)
            printError("sluice guard: sluice run ended without a graceful stop; VIPs withdrawn from BIRD")
        } catch {
            printError("sluice guard: VIPs removed from the include files, but BIRD's configure failed: \(error)")
            throw ExitCode(1)
        }
    }

    /// Reads standard input until `quit` or end-of-file.
    static func waitForParent() -> Ending {
        var text = ""
        while true {
            let data = FileHandle.standardInput.availableData
            if data.isEmpty { return .parentGone }
            text += String(decoding: data, as: UTF8.self)
            if text.contains("quit") { return .quit }
        }
    }
}
