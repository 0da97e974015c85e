// `sluice run --config FILE`: a thin composition. It loads the file, checks the host, builds the
// desired state and the AF_XDP runtime from it, and then runs the daemon as a group of services
// (swift-service-lifecycle): the netlink mirror, the data plane, cookie-key rotation, SIGHUP reloads, the stats file, the
// health checker, the systemd watchdog, problem logging, the traffic sampler, the admin API on its
// unix socket and, when `metrics.listen` is set, the Prometheus endpoint. SIGTERM/SIGINT start a graceful shutdown in which the
// services stop in reverse order, the data plane last (workers stopped, programs detached).

import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import SluiceControl
import SluiceCore
import SluiceXDP

#if canImport(Glibc)
    import Glibc
#endif

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run the gateway in the foreground.")

    @Option(name: .shortAndLong, help: "The YAML configuration file.")
    var config: String

    @Option(help: "Write counters to this file every second, one `name value` per line.")
    var statsFile: String?

    @Flag(help: "Replace any XDP program already attached to the interfaces, not only a stale sluice one.")
    var force = false

    func run() async throws {
        LoggingSystem.bootstrap(LogLevelControl.handler)
        let logger = Logger(label: "sluice")
        let loaded: SluiceConfiguration
        do {
            loaded = try ConfigurationLoader.load(path: config)
        } catch {
            for problem in error.problems { printError(problem.line(file: error.file)) }
            throw ExitCode(1)
        }
        LogLevelControl.current = loaded.global.logLevel
        for warning in loaded.warnings { logger.warning("\(warning.line(file: config))") }
        // Workers go on the CPUs the file names, or else on those the process may use, one each.
        let allowedCPUs = CPUAffinity.allowedCPUs()
        let (configuration, workersNote) = ReceiveQueues.resolvingWorkers(
            loaded, cpuCount: allowedCPUs.isEmpty ? ProcessInfo.processInfo.activeProcessorCount : allowedCPUs.count)
        let workerCPUs = configuration.dataplane.cpus.isEmpty ? allowedCPUs : configuration.dataplane.cpus
        signal(SIGPIPE, SIG_IGN)
        // Until the reload service listens, a SIGHUP (a reload sent too early) must not end the process.
        signal(SIGHUP, SIG_IGN)

        let mirror: NetlinkMirror
        do {
            mirror = try NetlinkMirror(configuration: .init(table: loaded.interfaces.routeTable))
        } catch {
            printError("sluice: \(error)")
            throw ExitCode(1)
        }
        let view = mirror.snapshot()
        let names = Set([configuration.interfaces.external, configuration.interfaces.internal])
        let interfaces = view.interfaces.compactMap { info -> (name: String, mtu: Int)? in
            guard let name = view.interfaceName(info.index), names.contains(name) else { return nil }
            return (name, info.mtu)
        }
        let release =
            (try? String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        let host = HostChecks.run(configuration, interfaces: interfaces, kernelRelease: release)
        for warning in host.warnings { logger.warning("host: \(warning)") }
        if !host.errors.isEmpty {
            for error in host.errors { printError("sluice: host: \(error)") }
            mirror.stop()
            throw ExitCode(1)
        }

        // A key file shared by the gateways of a group: every one starts with the same keys.
        var sharedKeys: SynCookieKeyring?
        if let path = configuration.synProxyKeyFile {
            do {
                let file = try CookieKeyFile.load(path: path)
                sharedKeys = file.keyring(epoch: CookieKeyFile.epoch(at: Date().timeIntervalSince1970))
            } catch {
                printError("sluice: \(error)")
                mirror.stop()
                throw ExitCode(1)
            }
        }

        // The sync group's key, read before anything starts: a missing or short file is a start-up error.
        var syncKey: (UInt64, UInt64)?
        if let sync = configuration.sync {
            guard let data = FileManager.default.contents(atPath: sync.keyFile),
                let key = SyncService<ContinuousClock>.key(fileBytes: Array(data))
            else {
                printError(
                    "sluice: sync.key_file \(sync.keyFile) cannot be read or holds fewer than \(CookieKeyFile.minimumBytes) bytes"
                )
                mirror.stop()
                throw ExitCode(1)
            }
            syncKey = key
        }

        let desired = DesiredState(configuration: configuration)
        let runtime: DataPlaneRuntime
        do {
            let options = DataPlaneOptions(
                externalInterface: configuration.interfaces.external,
                internalInterface: configuration.interfaces.internal, mode: configuration.interfaces.xdpMode,
                queues: configuration.dataplane.workers,
                cpus: workerCPUs, frameSize: configuration.dataplane.frameSize,
                frameCount: configuration.dataplane.frames, forceReplace: force,
                idleSpinRounds: configuration.dataplane.idleSpinRounds,
                ntupleRules: configuration.dataplane.ntupleRules)
            runtime = try DataPlaneRuntime(
                options: options, configuration: desired.dataplaneConfiguration(), network: NetworkViewSource(mirror),
                resolver: NeighbourResolver { address, index in
                    mirror.requestResolution(address: address, interfaceIndex: index)
                }, cookieKeys: sharedKeys)
        } catch {
            printError("sluice: \(error)")
            mirror.stop()
            throw ExitCode(1)
        }
        // Every RX queue served, or no start: the mode is known only now that the program is attached.
        if let problem = ReceiveQueues.problem(
            interfaces: Array(Set([runtime.externalInterface.name, runtime.internalInterface.name])).sorted(),
            bound: runtime.options.queues, mode: runtime.attachedMode)
        {
            printError("sluice: \(problem)")
            runtime.stop()
            mirror.stop()
            throw ExitCode(1)
        }
        // After the runtime took the interfaces' locks (so a second sluice on them names the
        // interface) and before anything forwards: a socket another process serves is fatal.
        do {
            try await AdminAPIService.claim(path: configuration.admin.socket)
            try runtime.start()
        } catch {
            printError("sluice: \(error)")
            runtime.stop()
            mirror.stop()
            throw ExitCode(1)
        }
        // Once the program is attached: on veth the NAPI a deferral acts on exists only with it.
        var deferred: [NAPIDeferral.Saved] = []
        if let deferral = configuration.dataplane.napiDeferral {
            do {
                deferred = try deferral.apply(to: [runtime.externalInterface.name, runtime.internalInterface.name])
            } catch {
                printError("sluice: \(error)")
                runtime.stop()
                mirror.stop()
                throw ExitCode(1)
            }
        }
        // Only now: a start-up that fails says one line, the reason.
        logger.info("sluice \(SluiceVersion.current) starting, configuration \(config)")
        // Warnings were logged at warning level above; the summary repeats them otherwise.
        for line in StartupSummary.describe(configuration) where !line.hasPrefix("warning: ") {
            logger.info("\(line)")
        }
        logger.info(
            "data plane up: \(runtime.externalInterface.name)/\(runtime.internalInterface.name), xdp mode \(runtime.attachedMode.rawValue), \(runtime.options.queues) worker(s)"
        )
        // Said once the data plane is up: a start that fails prints only its error.
        if let workersNote { logger.info("\(workersNote)") }
        if runtime.options.queues > 1 { logger.info("workers: \(runtime.ownershipSource)") }
        if !workerCPUs.isEmpty {
            let placed = (0..<runtime.options.queues).map { "w\($0)=cpu\(workerCPUs[$0 % workerCPUs.count])" }
            logger.info("workers pinned: \(placed.joined(separator: " "))")
        }
        if configuration.virtualServers.contains(where: \.synProxy) {
            // Say which path answers SYN cookies, and why, so an operator is never left guessing.
            for path in runtime.synAnswering() {
                logger.info(
                    "syn cookies on \(path.interface): \(path.answering ? "answered in XDP" : "answered by the workers") (\(path.reason))"
                )
            }
        }

        let control = ControlPlane(configuration: configuration, sink: runtime, logger: logger)
        await control.start()
        let clock = ContinuousClock()
        let notifier = SystemdNotifier(environment: ProcessInfo.processInfo.environment)
        let reload = ReloadService(path: config, control: control, logger: logger)
        let sampler = TrafficSampler()
        let syncBoard = SyncBoard()
        let gateway = RuntimeGateway(runtime: runtime) {
            let groups = await control.state.configuration.localAddressGroups
            return Dictionary(groups.map { ($0.addresses.sorted(), $0.name) }, uniquingKeysWith: { a, _ in a })
        }
        let board = AnnounceBoard()
        let admin = AdminHandler(
            control: control, gateway: gateway, sampler: sampler, board: board, syncBoard: syncBoard
        ) {
            await reload.reload()
        }
        var services: [any Service] = [
            NetlinkMirrorService(mirror: mirror),
            DataPlaneService(runtime: runtime, logger: logger),
            CookieKeyService(runtime: runtime, clock: clock, logger: logger, keyFile: configuration.synProxyKeyFile),
            reload,
            StatsFileService(
                runtime: runtime, mirror: mirror, control: control, fixedPath: statsFile, clock: clock, logger: logger),
            HealthCheckService(control: control, probe: SystemProbe(), clock: clock),
            WatchdogService(notifier: notifier, heartbeats: { runtime.heartbeats() }, clock: clock, logger: logger),
            ProblemLogService(counters: { runtime.counters() }, clock: clock, logger: logger),
            StatsSamplerService(gateway: gateway, sampler: sampler, clock: clock),
            AdminAPIService(path: configuration.admin.socket, handler: admin, logger: logger),
        ]
        if let listen = configuration.metrics.listen {
            services.append(MetricsService(host: listen.host, port: listen.port, handler: admin, logger: logger))
        }
        if let sync = configuration.sync, let syncKey {
            services.append(
                SyncService(
                    options: sync, key: syncKey, control: control, dataPlane: RuntimeSyncDataPlane(runtime: runtime),
                    board: syncBoard, clock: clock, logger: logger))
        }
        // Last, so that at shutdown it withdraws the VIPs first and waits before anything else stops.
        let announce = configuration.announce
        let announcer: any RouteAnnouncer
        switch announce.method {
        case .none: announcer = NoAnnouncer()
        case .bird:
            announcer = BirdAnnouncer(
                controlSocket: announce.birdControlSocket, includeFile: announce.birdIncludeFile,
                includeFile6: announce.birdIncludeFile6)
        case .exec: announcer = ExecAnnouncer(command: announce.command)
        }
        let guardProcess = announce.method == .bird ? startGuard(announce, logger: logger) : nil
        let guardInput = guardProcess?.input.fileHandleForWriting
        services.append(
            AnnouncerService(
                control: control, announcer: announcer, board: board, heartbeats: { runtime.heartbeats() },
                // Non-blocking: a guard that stopped reading must not stall the announcer.
                beat: { _ = try? guardInput?.write(contentsOf: Data("beat\n".utf8)) },
                drainFile: announce.drainFile,
                // Without a backend no router waits on a withdrawal: stop at once.
                shutdownGrace: announce.method == .none ? .zero : .milliseconds(announce.shutdownGraceMilliseconds),
                clock: clock, logger: logger))
        // Its own handler: the group's start/stop chatter stays below notice whatever log_level says.
        var groupLogger = Logger(label: "sluice.services") { StreamLogHandler.standardError(label: $0) }
        groupLogger.logLevel = .notice
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint], logger: groupLogger))
        notifier.notify("READY=1\nSTATUS=forwarding")
        var failed = false
        do {
            try await group.run()
        } catch {
            logger.error("event=service_failed error=\"\(error)\"")
            failed = true
        }
        // A graceful stop withdrew the VIPs already: the guard may leave without touching BIRD.
        if let guardProcess {
            try? guardProcess.input.fileHandleForWriting.write(contentsOf: Data("quit\n".utf8))
            guardProcess.process.waitUntilExit()
        }
        for problem in NAPIDeferral.restore(deferred) {
            logger.error("event=napi_deferral_not_restored \(problem)")
        }
        logger.info("stopped; XDP program detached")
        if failed { throw ExitCode(1) }
    }
}

func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// Starts `sluice guard` with a pipe on its standard input; the pipe's write end stays open in this
/// process until it exits (GuardCommand.swift says why). Nil, logged, when it cannot start.
func startGuard(_ announce: SluiceConfiguration.AnnounceOptions, logger: Logger) -> (process: Process, input: Pipe)? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    process.arguments = [
        "guard", "--control-socket", announce.birdControlSocket, "--include-file", announce.birdIncludeFile,
        "--include-file6", announce.birdIncludeFile6,
    ]
    let input = Pipe()
    process.standardInput = input
    do {
        try process.run()
    } catch {
        logger.error("event=guard_failed error=\"\(error)\" a crash would leave the VIPs announced")
        return nil
    }
    let writeEnd = input.fileHandleForWriting.fileDescriptor
    _ = fcntl(writeEnd, F_SETFL, fcntl(writeEnd, F_GETFL) | O_NONBLOCK)
    logger.info("event=guard_started pid=\(process.processIdentifier)")
    return (process, input)
}
