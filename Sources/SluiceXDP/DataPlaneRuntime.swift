// The AF_XDP runtime as one object: steering program(s), UMEMs, sockets and workers, set up in an order
// that never leaves the host half-configured.
//
// Set-up (init): resolve interfaces → attach sluice_steer to each distinct interface (removing a stale one
// left by a crashed run) → fill its maps from the configuration → per queue: one UMEM, the external socket,
// the internal socket (shared UMEM), register both in their interface's XSKMAP → build workers (threads not
// yet started). Any failure tears down what was built, detaching the programs, and throws.
//
// `stop()` is the only way out and is idempotent: stop and join workers, close sockets (which also empties
// the XSKMAP slots), detach the programs. Call it on SIGTERM/SIGINT and on fatal errors; `deinit` calls it
// as a last resort, but an attachment would outlive a process that exits without it.
//
// The configuration is published through a SnapshotBox and the network view comes from a
// NetworkViewSource (the netlink mirror); workers poll both at batch boundaries; map updates happen on the caller's thread. Thread-safe: all mutable state is behind a mutex,
// and nothing here is on the hot path.
//
// SYN cookies: one keyring (SynCookieKeyring) for every worker and the steering programs, so a cookie
// made by XDP verifies in whichever worker gets the ACK. The control plane's cookie-key service rotates
// the key every 120 s (SynCookie's limit: a cookie lives up to 120 s and must stay checkable with the
// previous key) in three steps: `publishCookieKey()` to the workers, wait (without any lock held)
// until `workersHoldCookieKey` says each has taken it, then `installCookieKeyInPrograms`, so no worker
// sees a cookie made with a key it does not hold yet. The same service calls `refreshTransmitCheck()`
// every few seconds: whether XDP_TX works on each interface (XDPTransmitCheck: a veth peer can gain or
// lose its XDP program) turns the programs' SYN answering on or off.

import CXDP
import SluiceCore
import SluicePacket
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The I/O runtime: XDP steering, AF_XDP sockets and worker threads around SluiceCore's `Dataplane`.
public final class DataPlaneRuntime: Sendable {
    /// The options it was built with.
    public let options: DataPlaneOptions
    /// The resolved external interface.
    public let externalInterface: NetworkInterface
    /// The resolved internal interface (equal to external on a single interface).
    public let internalInterface: NetworkInterface
    /// The mode the program was attached in (`.native` or `.skb`).
    public let attachedMode: XDPMode
    /// The configuration workers read; publish through `update(configuration:)`.
    public let configuration: SnapshotBox<DataplaneConfiguration>
    /// Where workers read the L2/L3 snapshot from.
    public let network: NetworkViewSource
    /// The box behind `network` when the runtime was given a plain view (`update(network:)` publishes here).
    private let networkBox: SnapshotBox<NetworkView>?

    /// The SYN-cookie keys every worker and program use.
    public let cookieKeys: SnapshotBox<SynCookieKeyring>
    /// How client frames are assigned to workers (FlowOwnership.swift), for the start-up log.
    public let ownershipSource: String

    private struct State {
        var locks: [InterfaceLock]
        var programs: [XDPProgram]
        var workers: [Worker<Dataplane>]
        /// The reply-steering rules on the interface replies arrive on (`options.ntupleRules`).
        var rules: NtupleRuleTable<EthtoolNtupleDriver>?
        var started = false
        var stopped = false
    }
    private let state: Mutex<State>

    /// How often the SYN-cookie key changes: `SynCookie.maximumAgeMilliseconds`, the shortest interval
    /// that keeps every cookie checkable for its whole life.
    public static let cookieKeyRotationMilliseconds = SynCookie.maximumAgeMilliseconds
    /// How often the control plane re-checks whether XDP_TX works on each interface.
    public static let transmitCheckMilliseconds: UInt64 = 5000

    /// Attaches the steering program, fills its maps and creates sockets and workers (not started).
    /// - Parameters:
    ///   - options: interfaces, mode, queues, memory.
    ///   - configuration: the initial data-plane configuration.
    ///   - network: where workers read the L2/L3 snapshot (`NetworkViewSource(mirror)` in the daemon).
    ///   - resolver: where workers send next hops that need neighbour resolution.
    ///   - secret: 128 random bits for the data plane's hashes and ISNs; random when nil.
    /// - Throws: `XDPError`; nothing stays attached when it throws.
    public convenience init(
        options: DataPlaneOptions, configuration: DataplaneConfiguration, network: NetworkViewSource,
        resolver: NeighbourResolver = .none, secret: (UInt64, UInt64)? = nil, cookieKeys: SynCookieKeyring? = nil
    ) throws(XDPError) {
        try self.init(
            options: options, configuration: configuration, source: network, box: nil, resolver: resolver,
            secret: secret, cookieKeys: cookieKeys)
    }

    /// Like `init(options:configuration:network:resolver:secret:)` with a view the caller keeps up to date
    /// through `update(network:)`.
    public convenience init(
        options: DataPlaneOptions, configuration: DataplaneConfiguration, network: NetworkView,
        resolver: NeighbourResolver = .none, secret: (UInt64, UInt64)? = nil
    ) throws(XDPError) {
        let box = SnapshotBox(network)
        try self.init(
            options: options, configuration: configuration, source: .box(box), box: box, resolver: resolver,
            secret: secret, cookieKeys: nil)
    }

    private init(
        options: DataPlaneOptions, configuration: DataplaneConfiguration, source network: NetworkViewSource,
        box networkBox: SnapshotBox<NetworkView>?, resolver: NeighbourResolver, secret: (UInt64, UInt64)?,
        cookieKeys initialKeys: SynCookieKeyring?
    ) throws(XDPError) {
        guard options.queues >= 1, options.queues <= Int(SLUICE_MAX_QUEUES) else {
            throw XDPError(
                operation: "configure data plane", code: EINVAL,
                detail: "queues must be in 1...\(SLUICE_MAX_QUEUES), got \(options.queues)")
        }
        let external = try NetworkInterface.named(options.externalInterface)
        let internalSide =
            options.internalInterface == options.externalInterface
            ? external : try NetworkInterface.named(options.internalInterface)
        let split = internalSide.index != external.index
        // Before any program is touched: a live Sluice on these interfaces must not be mistaken for
        // a crashed one whose program is stale.
        var locks = [try InterfaceLock(interfaceIndex: external.index, interfaceName: external.name)]
        if split {
            locks.append(try InterfaceLock(interfaceIndex: internalSide.index, interfaceName: internalSide.name))
        }

        var programs: [XDPProgram] = []
        var workers: [Worker<Dataplane>] = []
        let configurationBox = SnapshotBox(configuration)
        var generator = SystemRandomNumberGenerator()
        let secret = secret ?? (generator.next(), generator.next())
        // One table for every worker: a client's connections arrive on any queue (2 MiB, made whether
        // or not a service has persistence now, so that a reload can turn it on).
        let templates = PersistenceTemplates(hashKey: (generator.next(), generator.next()))
        // One for every worker too: the NIC spreads a datagram's later fragments by addresses alone, so
        // they may reach another worker than their first fragment (1.6 MiB).
        let fragments = FragmentTable(hashKey: (generator.next(), generator.next()))
        let cookieKeys = SnapshotBox(initialKeys ?? SynCookieKeyring(key: SynCookieKeyring.randomKey()))
        let steerByRules = options.ntupleRules && options.queues > 1
        if steerByRules, !NtupleRule.canSteer(workers: options.queues) {
            throw XDPError(
                operation: "configure ntuple rules", subject: internalSide.name, code: EINVAL,
                detail: "ntuple rules steer replies by the low bits of the local port, which needs a power-of-two "
                    + "worker count, but there are \(options.queues) workers; "
                    + NtupleRule.workerAdvice(workers: options.queues))
        }
        let (ownership, initialSource) = Self.ownership(
            interface: external.name, workers: options.queues, repliesSteeredByRules: steerByRules)
        var ownershipSource = initialSource
        var rules: NtupleRuleTable<EthtoolNtupleDriver>?
        do throws(XDPError) {
            let externalProgram = try XDPProgram(
                interfaceIndex: external.index, interfaceName: external.name, mode: options.mode,
                force: options.forceReplace)
            programs.append(externalProgram)
            var internalProgram = externalProgram
            if split {
                // Same mode on both sides: a native attach that falls back on one side should not leave the
                // other in a different mode by accident.
                internalProgram = try XDPProgram(
                    interfaceIndex: internalSide.index, interfaceName: internalSide.name,
                    mode: externalProgram.mode, force: options.forceReplace)
                internalProgram.answersSYNs = false
                programs.append(internalProgram)
            }
            for program in programs {
                program.transmitWorks =
                    XDPTransmitCheck.check(interfaceIndex: program.interfaceIndex, mode: program.mode).works
                try program.setCookieKeys(cookieKeys.read().value)
                try program.apply(configuration: configuration)
            }

            // One UMEM for all workers, each owning its share, so that a frame can be handed to the
            // worker that owns its connection without a copy (HandOffMesh.swift).
            let umem = try Umem(frameSize: options.frameSize, frameCount: options.frameCount, workers: options.queues)
            let handOff =
                options.queues > 1
                ? try HandOffMesh(workerCount: options.queues, framesPerWorker: options.frameCount) : nil
            for queue in 0..<options.queues {
                let externalSocket = try XSKSocket(
                    interface: external.name, queue: UInt32(queue), umem: umem, options: options.socket)
                var internalSocket: XSKSocket?
                if split {
                    internalSocket = try XSKSocket(
                        interface: internalSide.name, queue: UInt32(queue), umem: umem, options: options.socket)
                }
                try externalProgram.setSocket(queue: UInt32(queue), fd: externalSocket.fd)
                if let internalSocket {
                    try internalProgram.setSocket(queue: UInt32(queue), fd: internalSocket.fd)
                }
                let workerCount = options.queues
                let externalIndex = external.index
                let internalIndex = internalSide.index
                workers.append(
                    Worker(
                        index: queue, queue: UInt32(queue), externalSocket: externalSocket,
                        internalSocket: internalSocket,
                        cpu: options.cpus.isEmpty ? nil : options.cpus[queue % options.cpus.count],
                        configuration: configurationBox, network: network, resolver: resolver,
                        idlePollMilliseconds: options.idlePollMilliseconds, idleSpinRounds: options.idleSpinRounds,
                        cookieKeys: cookieKeys, handOff: handOff
                    ) { configuration, keys in
                        Dataplane(
                            configuration: configuration, worker: queue, workerCount: workerCount,
                            externalInterface: externalIndex, internalInterface: internalIndex, secret: secret,
                            cookieKey: keys?.current, previousCookieKey: keys?.previous, templates: templates,
                            ownership: ownership, fragments: fragments)
                    })
            }
            // Last, once everything else stands: a failure here must not leave rules behind.
            if steerByRules {
                var table = NtupleRuleTable(
                    driver: EthtoolNtupleDriver(interfaceName: internalSide.name), workers: options.queues)
                try table.apply(localAddresses: SteeredService.steering(for: configuration).localAddresses)
                ownershipSource +=
                    "; \(table.installed.count) ntuple rules on \(internalSide.name) send each reply to the queue "
                    + "of its local port's worker"
                rules = table
            }
        } catch {
            workers.removeAll()
            for program in programs { try? program.detach() }
            throw error
        }

        self.options = options
        self.externalInterface = external
        self.internalInterface = internalSide
        self.attachedMode = programs[0].mode
        self.ownershipSource = ownershipSource
        self.configuration = configurationBox
        self.network = network
        self.networkBox = networkBox
        self.cookieKeys = cookieKeys
        self.state = Mutex(State(locks: locks, programs: programs, workers: workers, rules: rules))
    }

    deinit { stop() }

    /// Who owns a client's frames: with the external NIC's own Toeplitz key and indirection table the
    /// worker of the queue the NIC delivers them to (nothing to hand off); otherwise Microsoft's default
    /// key over an even table, with frames on another worker's queue handed over.
    static func ownership(interface: String, workers: Int, repliesSteeredByRules: Bool = false) -> (
        FlowOwnership?, String
    ) {
        guard workers > 1 else { return (nil, "one worker") }
        if repliesSteeredByRules {
            // Replies follow the rules; client frames still follow the NIC's RSS when it can be read.
            let rss = try? RSSConfiguration.read(interface: interface)
            if let rss, rss.problem == nil {
                return (
                    FlowOwnership(
                        workerCount: workers, key: rss.key, indirection: rss.table, repliesSteeredByRules: true),
                    "RSS of \(interface): toeplitz, \(rss.indirection.count)-entry table: a client's frames stay "
                        + "with the worker that receives them"
                )
            }
            return (
                FlowOwnership(workerCount: workers, repliesSteeredByRules: true),
                "\(interface) RSS not predictable: client frames on another worker's queue are handed over"
            )
        }
        let fallback = "client frames on another worker's queue are handed over"
        let rss: RSSConfiguration?
        do throws(XDPError) {
            rss = try RSSConfiguration.read(interface: interface)
        } catch {
            return (FlowOwnership(workerCount: workers), "RSS of \(interface) unreadable (\(error)): \(fallback)")
        }
        guard let rss else {
            return (FlowOwnership(workerCount: workers), "\(interface) reports no RSS: \(fallback)")
        }
        if let problem = rss.problem {
            return (
                FlowOwnership(workerCount: workers), "RSS of \(interface) not predictable (\(problem)): \(fallback)"
            )
        }
        return (
            FlowOwnership(workerCount: workers, key: rss.key, indirection: rss.table),
            "RSS of \(interface): toeplitz, \(rss.indirection.count)-entry table: a client's frames stay with the "
                + "worker that receives them"
        )
    }

    /// Starts the worker threads.
    /// - Throws: `XDPError` when a thread cannot be started; the runtime is then stopped (detached).
    public func start() throws(XDPError) {
        let failure: XDPError? = state.withLock { state in
            guard !state.started, !state.stopped else { return nil }
            state.started = true
            for worker in state.workers {
                do throws(XDPError) {
                    try worker.start()
                } catch {
                    return error
                }
            }
            return nil
        }
        if let failure {
            stop()
            throw failure
        }
    }

    /// Stops workers, closes sockets and detaches the steering program. Idempotent; the runtime cannot
    /// be restarted afterwards.
    /// - Returns: detach failures (the program may still be attached), empty on success.
    @discardableResult
    public func stop() -> [XDPError] {
        state.withLock { state in
            guard !state.stopped else { return [] }
            state.stopped = true
            for worker in state.workers { worker.stop() }
            // Dropping the workers closes their sockets and UMEMs before the programs go.
            state.workers.removeAll()
            var failures: [XDPError] = state.rules?.removeAll() ?? []
            state.rules = nil
            for program in state.programs {
                do throws(XDPError) { try program.detach() } catch { failures.append(error) }
            }
            // Only once nothing is attached may another Sluice take the interfaces.
            state.locks.removeAll()
            return failures
        }
    }

    /// Publishes a new configuration to the workers and updates the steering maps by difference.
    public func update(configuration: DataplaneConfiguration) throws(XDPError) {
        self.configuration.publish(configuration)
        try state.withLock { (state) throws(XDPError) in
            guard !state.stopped else { return }
            for program in state.programs { try program.apply(configuration: configuration) }
            try state.rules?.apply(localAddresses: SteeredService.steering(for: configuration).localAddresses)
        }
    }

    /// Publishes a new L2/L3 snapshot, when the runtime was built from a `NetworkView`; with a
    /// `NetworkViewSource` the source itself is followed and this does nothing.
    public func update(network: NetworkView) {
        networkBox?.publish(network)
    }

    /// Counters summed over workers (each at most ~100 ms old). SYNs the steering programs answered
    /// themselves count as `synProxySynsReceived` and `synProxyCookiesSent` too, so those keep meaning
    /// "SYNs the gateway answered" wherever the answer was made; frames a program passed for want of a
    /// socket on their queue count as drop `unservedQueue`.
    public func counters() -> Counters {
        state.withLock { state in
            var total = Counters()
            for worker in state.workers { total.add(worker.counters) }
            var answered: UInt64 = 0
            var unserved: UInt64 = 0
            for program in state.programs where program.isAttached {
                let stats = try? program.readStats()
                answered &+= stats?["syn_answered"] ?? 0
                unserved &+= stats?["redirect_failed"] ?? 0
            }
            total.count(.synProxySynsReceived, by: answered)
            total.count(.synProxyCookiesSent, by: answered)
            total.drops[Int(DropReason.unservedQueue.rawValue)] &+= unserved
            return total
        }
    }

    /// The SYN-cookie keyring generation each worker holds (`cookieKeys` has the latest).
    public func cookieKeyGenerations() -> [UInt64] {
        state.withLock { state in state.workers.map(\.cookieKeyGeneration) }
    }

    /// Asks every worker a question through its mailbox; `body` runs on the worker's thread between
    /// batches, with its data plane. Waits at most `timeout`: a worker that is stalled, stopped or has
    /// a full mailbox answers nil.
    public func ask<Answer: Sendable>(
        timeout: Duration = .seconds(1), _ body: @escaping @Sendable (inout Dataplane) -> Answer
    ) async -> [Answer?] {
        let workers = state.withLock { state in state.stopped ? [] : state.workers }
        let answers = WorkerAnswers<Answer>(workers: workers.count)
        for (index, worker) in workers.enumerated() {
            let posted =
                worker.isRunning
                && worker.mailbox.post { dataplane in
                    answers.answer(index, body(&dataplane))
                    return true
                }
            if !posted { answers.skip(index) }
        }
        return await answers.wait(timeout: timeout)
    }

    /// Like `ask`, for work done in slices: `step` runs between batches with the worker's own copy of
    /// `initial` until it returns an answer (nil: not finished, run again after the next batch).
    public func askInSlices<State: Sendable, Answer: Sendable>(
        timeout: Duration = .seconds(5), initial: State,
        _ step: @escaping @Sendable (inout Dataplane, inout State) -> Answer?
    ) async -> [Answer?] {
        let workers = state.withLock { state in state.stopped ? [] : state.workers }
        let answers = WorkerAnswers<Answer>(workers: workers.count)
        for (index, worker) in workers.enumerated() {
            let progress = SliceState(initial)
            let posted =
                worker.isRunning
                && worker.mailbox.post { dataplane in
                    guard let answer = progress.advance({ step(&dataplane, &$0) }) else { return false }
                    answers.answer(index, answer)
                    return true
                }
            if !posted { answers.skip(index) }
        }
        return await answers.wait(timeout: timeout)
    }

    /// Each worker's heartbeat; a value that stops moving means a stalled worker.
    public func heartbeats() -> [UInt64] {
        state.withLock { state in state.workers.map(\.heartbeat) }
    }

    /// The steering program's counters, summed over CPUs and interfaces (see `XDPProgram.statisticNames`),
    /// and the gauge `syn_answering`: the number of interfaces whose program answers SYNs (0 when
    /// `synproxy.answer_in_xdp` is off or XDP_TX cannot work there, see XDPTransmitCheck).
    public func xdpStats() throws(XDPError) -> [String: UInt64] {
        try state.withLock { (state) throws(XDPError) -> [String: UInt64] in
            var total: [String: UInt64] = [:]
            var answering: UInt64 = 0
            for program in state.programs where program.isAttached {
                for (name, value) in try program.readStats() { total[name, default: 0] &+= value }
                if program.transmitWorks && program.answersSYNs && configuration.read().value.synProxy.answerInXDP {
                    answering += 1
                }
            }
            total["syn_answering"] = answering
            return total
        }
    }

    /// Whether each program (by interface name) answers SYNs in XDP, and why (for the start-up log).
    public func synAnswering() -> [(interface: String, answering: Bool, reason: String)] {
        let enabled = configuration.read().value.synProxy.answerInXDP
        return state.withLock { state in
            state.programs.map { program in
                let check = XDPTransmitCheck.check(interfaceIndex: program.interfaceIndex, mode: program.mode)
                if !enabled { return (program.interfaceName, false, "synproxy.answer_in_xdp is off") }
                if !program.answersSYNs {
                    return (program.interfaceName, false, "the internal side: SYNs to a VIP are dropped there")
                }
                return (program.interfaceName, program.transmitWorks, check.reason)
            }
        }
    }

    /// Starts a new SYN-cookie key generation: the workers take the new key (keeping the old one as
    /// the previous) between batches. The programs keep making cookies with the old key until
    /// `installCookieKeyInPrograms` is called, after `workersHoldCookieKey` says every worker has it.
    /// Rotating more often than every 120 s makes cookies older than the last-but-one rotation fail
    /// (their clients retransmit the SYN).
    /// - Returns: the new keyring generation.
    @discardableResult
    public func publishCookieKey() -> UInt64 {
        publishCookieKey(SynCookieKeyring.randomKey())
    }

    /// Like `publishCookieKey()` with a given key (derived from a key file shared by several gateways).
    @discardableResult
    public func publishCookieKey(_ key: (UInt64, UInt64)) -> UInt64 {
        var keyring = cookieKeys.read().value
        keyring.rotate(to: key)
        cookieKeys.publish(keyring)
        return keyring.generation
    }

    /// True when every running worker holds keyring `generation` (a stopped worker does not count).
    public func workersHoldCookieKey(_ generation: UInt64) -> Bool {
        state.withLock { state in
            !state.workers.contains { $0.isRunning && $0.cookieKeyGeneration < generation }
        }
    }

    /// Makes the steering programs answer with the current keyring.
    public func installCookieKeyInPrograms() throws(XDPError) {
        let keyring = cookieKeys.read().value
        try state.withLock { (state) throws(XDPError) in
            guard !state.stopped else { return }
            for program in state.programs where program.isAttached { try program.setCookieKeys(keyring) }
        }
    }

    /// Re-checks whether XDP_TX works on each interface; when that changed, turns the programs' SYN
    /// answering on or off (leaving the SYNs to the workers in between).
    public func refreshTransmitCheck() throws(XDPError) {
        let current = configuration.read().value
        try state.withLock { (state) throws(XDPError) in
            guard !state.stopped else { return }
            for program in state.programs where program.isAttached {
                let works = XDPTransmitCheck.check(interfaceIndex: program.interfaceIndex, mode: program.mode).works
                guard works != program.transmitWorks else { continue }
                program.transmitWorks = works
                try program.apply(configuration: current)
            }
        }
    }
}
