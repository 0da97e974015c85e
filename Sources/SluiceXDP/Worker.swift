// One data-plane worker: a pinned OS thread that owns one rx queue's sockets (external and internal, or one
// socket serving both on a single interface), their UMEM frames and its own data plane (docs/design.md §2: nothing
// on the hot path is shared or locked).
//
// The data plane is created on the worker thread and never leaves it. Between batches the loop:
//   - picks up a new DataplaneConfiguration, NetworkView or SYN-cookie keyring when their SnapshotBox
//     generation changed;
//   - runs `advance(now:network:)` every millisecond;
//   - publishes counters every 100 ms;
//   - when a round found no work (after idleSpinRounds more empty rounds, 0 by default), checks the stop
//     flag and sleeps in poll() on its sockets (≤ idlePollMilliseconds, 1 ms while transmitted frames are
//     still outstanding). It does not spin by default: in copy mode the kernel copies received
//     frames in NAPI on the worker's own core, and a spinning worker competes with that copy (measured on
//     veth: no spinning forwarded 15-25 % more and cost less CPU per connection).
//
// Queues and modes: an AF_XDP socket only sees its own queue. With several workers the sockets of all of
// them share one UMEM, worker k owning its share of the frames, and a frame whose connection another
// worker owns is handed to it by descriptor (HandOffMesh.swift). The idle poll() then also watches the
// worker's eventfd, written by a peer that handed it something while it slept.

import CXDP
import SluiceCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A worker thread running the AF_XDP loop for one queue.
@safe
public final class Worker<Processor: FrameProcessor & ~Copyable> {
    /// Worker index (0-based).
    public let index: Int
    /// The rx queue its sockets are bound to.
    public let queue: UInt32
    /// The external socket (also the internal one on a single interface).
    public let externalSocket: XSKSocket
    /// The internal socket, nil when the external socket serves both sides.
    public let internalSocket: XSKSocket?

    let control = WorkerControl()
    /// Requests from the control plane, run between batches.
    public let mailbox = WorkerMailbox<Processor>()
    private let cpu: Int?
    private let configuration: SnapshotBox<DataplaneConfiguration>
    private let network: NetworkViewSource
    private let resolver: NeighbourResolver
    private let idlePollMilliseconds: Int32
    private let idleSpinRounds: Int
    private let cookieKeys: SnapshotBox<SynCookieKeyring>?
    private let makeProcessor: @Sendable (DataplaneConfiguration, SynCookieKeyring?) -> Processor
    private let handOff: HandOffMesh?
    private var thread: PinnedThread?

    /// - Parameters:
    ///   - externalSocket/internalSocket: sockets on the same queue sharing one UMEM.
    ///   - cpu: the CPU to pin the thread to, or nil.
    ///   - configuration/network: snapshots picked up at batch boundaries.
    ///   - resolver: called on the worker thread, per batch, for next hops without a neighbour entry.
    ///   - idlePollMilliseconds: the longest poll() sleep when idle (1...100).
    ///   - idleSpinRounds: empty rounds before sleeping in poll() (0 = sleep at once).
    ///   - cookieKeys: the SYN-cookie keys shared with the other workers and the XDP program; rotations
    ///     published there reach the data plane between batches.
    ///   - makeProcessor: builds the data plane on the worker thread from the current configuration and
    ///     cookie keys.
    ///   - handOff: the mesh linking the workers that share the UMEM (worker `index` owns the
    ///     `umem.frameCount / workerCount` frames from `index` times that); nil for a single worker.
    public init(
        index: Int, queue: UInt32, externalSocket: XSKSocket, internalSocket: XSKSocket?, cpu: Int?,
        configuration: SnapshotBox<DataplaneConfiguration>, network: NetworkViewSource,
        resolver: NeighbourResolver, idlePollMilliseconds: Int32 = 10, idleSpinRounds: Int = 0,
        cookieKeys: SnapshotBox<SynCookieKeyring>? = nil, handOff: HandOffMesh? = nil,
        makeProcessor: @escaping @Sendable (DataplaneConfiguration, SynCookieKeyring?) -> Processor
    ) {
        precondition(handOff == nil || index < handOff!.workerCount, "worker index outside the mesh")
        precondition(internalSocket == nil || internalSocket!.umem === externalSocket.umem, "sockets must share a UMEM")
        self.index = index
        self.queue = queue
        self.externalSocket = externalSocket
        self.internalSocket = internalSocket
        self.cpu = cpu
        self.configuration = configuration
        self.network = network
        self.resolver = resolver
        self.idlePollMilliseconds = Swift.max(1, Swift.min(idlePollMilliseconds, 100))
        self.idleSpinRounds = Swift.max(0, idleSpinRounds)
        self.cookieKeys = cookieKeys
        self.makeProcessor = makeProcessor
        self.handOff = handOff
    }

    deinit { stop() }

    /// Starts the thread. Does nothing if already started.
    public func start() throws(XDPError) {
        guard thread == nil else { return }
        let umem = externalSocket.umem
        let share = umem.frameCount / (handOff?.workerCount ?? 1)
        let resources = unsafe WorkerResources(
            area: umem.area, frameSize: umem.frameSize, frameCount: share,
            firstFrame: handOff == nil ? 0 : index * share,
            areaFrames: umem.frameCount, external: externalSocket.port(side: .external),
            internal: internalSocket?.port(side: .internal), handOff: handOff?.end(of: index),
            owners: [externalSocket] + (internalSocket.map { [$0] } ?? []) + (handOff.map { [$0] } ?? []))
        let control = self.control
        let configuration = self.configuration
        let network = self.network
        let resolver = self.resolver
        let idle = self.idlePollMilliseconds
        let spin = self.idleSpinRounds
        let cookieKeys = self.cookieKeys
        let make = self.makeProcessor
        let mailbox = self.mailbox
        control.running.store(true, ordering: .releasing)
        do {
            thread = try PinnedThread(name: "sluice-w\(index)", cpu: cpu) {
                unsafe Worker.run(
                    resources: resources, control: control, configuration: configuration, network: network,
                    resolver: resolver, idlePollMilliseconds: idle, idleSpinRounds: spin, cookieKeys: cookieKeys,
                    mailbox: mailbox, makeProcessor: make)
            }
        } catch {
            control.running.store(false, ordering: .releasing)
            throw error
        }
    }

    /// Asks the thread to stop and waits for it. Idempotent.
    public func stop() {
        control.stopRequested.store(true, ordering: .releasing)
        thread?.join()
        thread = nil
    }

    /// The counters the worker last published (at most ~100 ms old; exact after `stop()`).
    public var counters: Counters { control.counters }

    /// Increases every time the worker publishes (every ~100 ms while it runs).
    public var heartbeat: UInt64 { control.heartbeat.load(ordering: .relaxed) }

    /// True from `start()` until the loop has exited.
    public var isRunning: Bool { control.running.load(ordering: .acquiring) }

    /// The generation of the SYN-cookie keyring the data plane holds.
    public var cookieKeyGeneration: UInt64 { control.cookieKeyGeneration.load(ordering: .acquiring) }

    // MARK: - Thread body

    private static func run(
        resources: WorkerResources, control: WorkerControl, configuration: SnapshotBox<DataplaneConfiguration>,
        network: NetworkViewSource, resolver: NeighbourResolver, idlePollMilliseconds: Int32, idleSpinRounds: Int,
        cookieKeys: SnapshotBox<SynCookieKeyring>?, mailbox: WorkerMailbox<Processor>,
        makeProcessor: @Sendable (DataplaneConfiguration, SynCookieKeyring?) -> Processor
    ) {
        let (initialConfiguration, configurationGeneration) = configuration.read()
        let networkGeneration = network.generation()
        let initialNetwork = network.snapshot()
        let keys = cookieKeys?.read()
        if let keys { control.cookieKeyGeneration.store(keys.value.generation, ordering: .releasing) }
        var core = unsafe WorkerCore(
            processor: makeProcessor(initialConfiguration, keys?.value), network: initialNetwork, area: resources.area,
            frameSize: resources.frameSize, frameCount: resources.frameCount, firstFrame: resources.firstFrame,
            areaFrames: resources.areaFrames, external: resources.external, internal: resources.internal,
            reserve: Swift.max(16, resources.frameCount / 8), resolver: resolver, handOff: resources.handOff,
            owners: resources.owners)
        loop(
            &core, control: control, configuration: configuration, seenConfiguration: configurationGeneration,
            network: network, seenNetwork: networkGeneration, cookieKeys: cookieKeys,
            seenKeys: (keys?.generation ?? 0, keys?.value.generation ?? 0), mailbox: mailbox,
            idlePollMilliseconds: idlePollMilliseconds, idleSpinRounds: idleSpinRounds)
        control.publish(core.processor.counters)
        control.running.store(false, ordering: .releasing)
    }

    @inline(never)
    private static func loop(
        _ core: inout WorkerCore<Processor>, control: WorkerControl,
        configuration: SnapshotBox<DataplaneConfiguration>, seenConfiguration: UInt64,
        network: NetworkViewSource, seenNetwork: UInt64, cookieKeys: SnapshotBox<SynCookieKeyring>?,
        seenKeys: (box: UInt64, keyring: UInt64), mailbox: WorkerMailbox<Processor>, idlePollMilliseconds: Int32,
        idleSpinRounds: Int
    ) {
        var seenConfiguration = seenConfiguration
        var seenNetwork = seenNetwork
        var seenKeys = seenKeys
        var lastAdvance = MonotonicClock.milliseconds()
        var lastPublish = lastAdvance
        var idleRounds = 0
        let descriptors = core.fileDescriptors
        let wakeup = core.wakeupDescriptor
        // The sockets (one or two), then the hand-off eventfd when there are peers.
        let socketCount = core.portCount == 2 ? 2 : 1
        let pollCount = nfds_t(socketCount + (wakeup >= 0 ? 1 : 0))
        let polled = UnsafeMutablePointer<pollfd>.allocate(capacity: 3)
        defer { unsafe polled.deallocate() }

        while !control.stopRequested.load(ordering: .relaxed) {
            let now = MonotonicClock.milliseconds()
            if configuration.generation != seenConfiguration {
                let (value, generation) = configuration.read()
                core.processor.apply(configuration: value)
                seenConfiguration = generation
            }
            let networkGeneration = network.generation()
            if networkGeneration != seenNetwork {
                core.network = network.snapshot()
                seenNetwork = networkGeneration
            }
            // Before this batch: an ACK in it may carry a cookie made with a key published just now.
            if let cookieKeys, cookieKeys.generation != seenKeys.box {
                let (keyring, generation) = cookieKeys.read()
                keyring.bring(&core.processor, from: seenKeys.keyring)
                seenKeys = (generation, keyring.generation)
                control.cookieKeyGeneration.store(keyring.generation, ordering: .releasing)
            }
            mailbox.serve(&core.processor)
            let work = core.runOnce(now: now)
            if now &- lastAdvance >= 1 {  // monotonic milliseconds; &- for form's sake
                core.processor.advance(now: now, network: core.network)
                lastAdvance = now
            }
            if now &- lastPublish >= 100 {
                control.publish(core.processor.counters)
                lastPublish = now
            }
            // A request done in slices continues after the next batch without waiting in poll().
            if work > 0 || mailbox.count > 0 {
                idleRounds = 0
                continue
            }
            idleRounds &+= 1
            if idleRounds <= idleSpinRounds { continue }
            if control.stopRequested.load(ordering: .acquiring) { break }
            // A peer may have handed something over since the last round: then no sleep.
            guard core.prepareToSleep() else { continue }
            unsafe polled[0] = pollfd(fd: descriptors.0, events: Int16(POLLIN), revents: 0)
            unsafe polled[1] = pollfd(fd: descriptors.1, events: Int16(POLLIN), revents: 0)
            unsafe polled[socketCount] = pollfd(fd: wakeup, events: Int16(POLLIN), revents: 0)
            _ = unsafe poll(polled, pollCount, core.isQuiescent ? idlePollMilliseconds : 1)
            core.wokeUp()
        }
    }
}

/// The raw pieces a worker thread needs, moved to it once at start. The pointers stay valid because the
/// `Worker` holds the sockets (and they the UMEM) and joins the thread before releasing them.
@unsafe
struct WorkerResources: @unchecked Sendable {
    let area: UnsafeMutableRawPointer
    let frameSize: Int
    /// The worker's share of the UMEM: frameCount frames from firstFrame, of areaFrames.
    let frameCount: Int
    let firstFrame: Int
    let areaFrames: Int
    let external: XSKPort
    let `internal`: XSKPort?
    let handOff: HandOffEnd?
    let owners: [AnyObject]
}
