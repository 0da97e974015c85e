// `sluice guard`: the crash guard of route announcement. `sluice run` starts it as a child with a pipe
// on its standard input and keeps the pipe's other end open for its whole life. When `sluice run`
// ends in any way, the kernel closes that end: the guard reads end-of-file, empties BIRD's include
// files and sends `configure`, so the VIPs are withdrawn within moments of a crash (SIGKILL, a
// fatal error) without systemd or anything else running. A graceful stop withdraws first and then
// writes `quit`, and the guard leaves without touching anything. A process that is stopped but not
// dead keeps the pipe open: the announcer writes `beat` every second, and a guard that hears none for
// the beat timeout withdraws too (GuardWatch.swift).

import ArgumentParser
import Foundation
import SluiceControl
import Synchronization

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

    @Option(help: "Withdraw when sluice run has sent no beat for this many milliseconds (stopped or hung).")
    var beatTimeoutMilliseconds = GuardWatch<ContinuousClock.Instant>.defaultTimeoutMilliseconds

    /// What the guard hears: a line from `sluice run`, its end, or the silence deadline passing.
    enum Event { case beat, quit, parentGone, silent }

    func validate() throws {
        guard beatTimeoutMilliseconds > 0 else { throw ValidationError("--beat-timeout-milliseconds must be positive") }
    }

    func run() async throws {
        // A terminal's Ctrl-C or hang-up goes to the whole process group: the parent handles those.
        signal(SIGINT, SIG_IGN)
        signal(SIGHUP, SIG_IGN)
        let clock = ContinuousClock()
        let watch = Mutex(GuardWatch<ContinuousClock.Instant>(timeout: .milliseconds(beatTimeoutMilliseconds)))
        let (events, sink) = AsyncStream.makeStream(of: Event.self)
        // A thread of its own for the blocking reads, so the concurrency pool stays free.
        Thread { Self.readParent(into: sink) }.start()
        let timer = Task {
            while !Task.isCancelled {
                let deadline =
                    watch.withLock { $0.deadline } ?? clock.now.advanced(by: .milliseconds(beatTimeoutMilliseconds))
                try? await clock.sleep(until: deadline, tolerance: nil)
                if watch.withLock({ $0.expire(at: clock.now) }) { sink.yield(.silent) }
            }
        }
        defer { timer.cancel() }
        for await event in events {
            switch event {
            case .beat:
                if watch.withLock({ $0.beat(at: clock.now) }) {
                    printError("sluice guard: sluice run beats again; it announces its VIPs itself")
                }
            case .quit: return
            case .silent:
                try? await withdraw(
                    because: "sluice run sent no beat for \(beatTimeoutMilliseconds) ms (stopped or hung)")
            case .parentGone:
                try await withdraw(because: "sluice run ended without a graceful stop")
                return
            }
        }
    }

    /// Empties the include files and has BIRD read them.
    func withdraw(because reason: String) async throws {
        for file in [includeFile, includeFile6] {
            try? BirdAnnouncer.includeText([]).write(toFile: file, atomically: true, encoding: .utf8)
        }
        do {
            _ = try await BirdControl.run("configure", socket: controlSocket)
            printError("sluice guard: \(reason); VIPs withdrawn from BIRD")
        } catch {
            printError(
                "sluice guard: \(reason); VIPs removed from the include files, but BIRD's configure failed: \(error)")
            throw ExitCode(1)
        }
    }

    /// Reads standard input line by line until `quit` or end of file.
    static func readParent(into sink: AsyncStream<Event>.Continuation) {
        var pending = ""
        while true {
            let data = FileHandle.standardInput.availableData
            if data.isEmpty { break }
            pending += String(decoding: data, as: UTF8.self)
            while let newline = pending.firstIndex(of: "\n") {
                let line = pending[..<newline]
                pending = String(pending[pending.index(after: newline)...])
                if line == "quit" {
                    sink.yield(.quit)
                    sink.finish()
                    return
                }
                if line == "beat" { sink.yield(.beat) }
            }
        }
        sink.yield(.parentGone)
        sink.finish()
    }
}
