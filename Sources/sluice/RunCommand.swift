// `sluice run --config FILE`: mirrors the kernel's routes and neighbours, attaches the steering
// program, starts the workers, logs a start-up summary, and then loops on a 20 ms tick: forwards new
// network snapshots to the workers, reloads on SIGHUP, writes the stats file every second, and on
// SIGTERM/SIGINT stops the workers and detaches the program (well inside 2 s).

import ArgumentParser
import Foundation
import Logging
import SluiceControl
import SluiceCore
import SluiceXDP

#if canImport(Glibc)
    import Glibc
#endif

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run the gateway in the foreground.")

    @Option(name: .shortAndLong, help: "The YAML configuration file.")
    var config: String

    @Option(help: "Write counters to this file every second, one `name value` per line.")
    var statsFile: String?

    @Flag(help: "Replace any XDP program already attached to the interfaces, not only a stale sluice one.")
    var force = false

    func run() throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        var logger = Logger(label: "sluice")
        let configuration: SluiceConfiguration
        do {
            configuration = try ConfigurationLoader.load(path: config)
        } catch {
            for problem in error.problems { printError(problem.line(file: error.file)) }
            throw ExitCode(1)
        }
        logger.logLevel = configuration.global.logLevel
        SignalFlags.install()

        let mirror: NetlinkMirror
        let runtime: DataPlaneRuntime
        do {
            mirror = try NetlinkMirror()
            let options = DataPlaneOptions(
                externalInterface: configuration.interfaces.external,
                internalInterface: configuration.interfaces.internal, mode: configuration.interfaces.xdpMode,
                queues: configuration.dataplane.queues ?? configuration.dataplane.workers,
                frameSize: configuration.dataplane.frameSize, frameCount: configuration.dataplane.frames,
                forceReplace: force, idleSpinRounds: configuration.dataplane.idleSpinRounds)
            runtime = try DataPlaneRuntime(
                options: options, configuration: configuration.dataplaneConfiguration(), network: mirror.snapshot(),
                resolver: NeighbourResolver { address, index in
                    mirror.requestResolution(address: address, interfaceIndex: index)
                })
        } catch {
            printError("sluice: \(error)")
            throw ExitCode(1)
        }
        do {
            try runtime.start()
        } catch {
            printError("sluice: \(error)")
            mirror.stop()
            throw ExitCode(1)
        }
        for line in StartupSummary.describe(configuration) { logger.info("\(line)") }
        logger.info(
            "data plane up: \(runtime.externalInterface.name)/\(runtime.internalInterface.name), xdp mode \(runtime.attachedMode.rawValue), \(runtime.options.queues) worker(s)"
        )

        if configuration.virtualServers.contains(where: \.synProxy) {
            // Say which path answers SYN cookies, and why, so an operator is never left guessing.
            for path in runtime.synAnswering() {
                logger.info(
                    "syn cookies on \(path.interface): \(path.answering ? "answered in XDP" : "answered by the workers") (\(path.reason))"
                )
            }
        }

        let statsPath = statsFile ?? configuration.global.statsFile
        var networkGeneration = mirror.currentGeneration()
        var tick = 0
        while !stopRequested.load(ordering: .relaxed) {
            usleep(20_000)
            tick += 1
            let generation = mirror.currentGeneration()
            if generation != networkGeneration {
                networkGeneration = generation
                runtime.update(network: mirror.snapshot())
            }
            if reloadRequested.exchange(false, ordering: .relaxed) {
                reload(runtime: runtime, logger: logger)
            }
            if tick % 50 == 0, let statsPath {
                StatsFile.write(runtime: runtime, mirror: mirror, to: statsPath)
            }
        }
        logger.info("stopping")
        if let statsPath { StatsFile.write(runtime: runtime, mirror: mirror, to: statsPath) }
        let clock = ContinuousClock()
        let started = clock.now
        let failures = runtime.stop()
        mirror.stop()
        for failure in failures { logger.error("\(failure)") }
        logger.info("stopped in \(clock.now - started); XDP program detached")
        if !failures.isEmpty { throw ExitCode(1) }
    }

    /// SIGHUP: a bad file leaves the running configuration untouched.
    func reload(runtime: DataPlaneRuntime, logger: Logger) {
        do {
            let fresh = try ConfigurationLoader.load(path: config)
            try runtime.update(configuration: fresh.dataplaneConfiguration())
            logger.info("configuration reloaded: \(fresh.virtualServers.count) virtual servers")
        } catch let error as ConfigurationError {
            for problem in error.problems { logger.error("reload refused: \(problem.line(file: error.file))") }
        } catch {
            logger.error("reload failed: \(error)")
        }
    }
}

func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
