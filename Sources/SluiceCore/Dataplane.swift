// One worker's FULLNAT data plane (docs/protocol.md §3–5): given a received frame, a clock and the
// kernel's L2/L3 view, it rewrites the frame in place and says where it goes.
//
//   client → VIP:vport   ──►  LIP:lport → RIP:rport     (inbound: addresses, ports, seq, options)
//   RIP:rport → LIP:lport ──►  VIP:vport → CIP:cport     (outbound: the reverse, ack, SACK, TSecr)
//
// The struct is ~Copyable and owned by one worker thread: every table here (connections, timer
// wheel, LIP port slices, schedulers, counters) is that worker's alone, so nothing is locked.
// It performs no I/O and reads no clock: `now` comes in with every call, which is what lets the
// tests drive it frame by frame on byte arrays with a manual clock.

import SluicePacket

/// One worker's data plane: all its tables, owned by one thread, no locks.
public struct Dataplane: ~Copyable {
    /// Per-worker counters; the worker publishes them for readers.
    public var counters: Counters
    @usableFromInline var configuration: DataplaneConfiguration
    @usableFromInline var services: ServiceTable
    @usableFromInline var table: ConnectionTable
    @usableFromInline var wheel: TimerWheel
    @usableFromInline var isnGenerator: SequenceNumberGenerator
    @usableFromInline var output: OutputQueue
    @usableFromInline var resolutions: ResolutionRequests
    @usableFromInline let worker: Int
    @usableFromInline let workerCount: Int
    @usableFromInline let externalInterface: Int32
    @usableFromInline let internalInterface: Int32
    /// Reused parse results: PacketInfo is a plain value, kept here only to avoid re-initialising it.
    @usableFromInline var info = PacketInfo()
    /// Per service: half-open TCP entries, and until when a `syn_proxy: auto` service's ACKs may carry
    /// cookies (UInt64.max: its SYNs get cookies now). Dataplane+SynProxyAuto.swift.
    @usableFromInline var halfOpen: [Int] = []
    @usableFromInline var cookiesUntil: [UInt64] = []
    /// Connection events for the peers (Dataplane+Sync.swift).
    @usableFromInline var syncOutbox: SyncOutbox
    /// UDP flows against their budgets (UDPFlowBudget.swift).
    @usableFromInline var udpBudget: UDPFlowBudget
    /// The `now` of the latest `process` or `advance`: the reference that turns a 32-bit connection
    /// deadline back into a full time where no `now` is at hand (Connection.swift, "Expiry").
    @usableFromInline var clock: UInt64 = 0
    /// The side the frame being processed arrived on.
    @usableFromInline var arrivalSide = Side.external
    /// True while processing a frame another worker handed over (it is not handed on).
    @usableFromInline var handedOff = false
    /// Which worker owns a frame (FlowOwnership.swift); nil with one worker.
    public let ownership: FlowOwnership?
    @usableFromInline var embedded = EmbeddedPacket()
    @usableFromInline var options = TCPOptionSummary()
    @usableFromInline var expiredScratch: [ConnectionID] = []
    /// Recent forwarding decisions, valid for one network snapshot.
    @usableFromInline var egressCache = EgressCache()
    /// Budget for ICMP errors this worker originates.
    @usableFromInline var icmpBudget = TokenBucket(ratePerSecond: 1000, burst: 100)
    /// SYN cookies, held client segments and counters of SYN-proxied services.
    @usableFromInline var synProxy: SynProxy
    /// PROXY headers Sluice sent itself (`send_on_connect`), kept until acknowledged.
    @usableFromInline var proxyResends = ProxyHeaderResends(capacity: 1024)
    /// Per-real-server counters, `trafficFields` words per server (Dataplane+ServerTraffic.swift).
    @usableFromInline var serverTraffic: [UInt64]
    /// Persistence templates, shared by every worker of a runtime (Dataplane+Persistence.swift); nil
    /// until a service has persistence, unless the runtime gave one.
    @usableFromInline var templates: PersistenceTemplates?
    @usableFromInline let templateHashKey: (UInt64, UInt64)
    /// The next entry the sweep for down real servers examines; -1 when no sweep runs.
    @usableFromInline var noDestinationSweep: ConnectionID = -1
    /// The rewrites of fragmented datagrams, shared by every worker of a runtime, and this worker's
    /// later fragments waiting for theirs (Dataplane+Fragments.swift).
    @usableFromInline let fragments: FragmentTable
    @usableFromInline var fragmentHold = FragmentHold()

    /// - Parameters:
    ///   - configuration: the services, LIPs and limits.
    ///   - worker: this worker's index in 0..<workerCount (selects its local-port slice).
    ///   - workerCount: number of workers sharing the LIPs.
    ///   - externalInterface/internalInterface: ifindexes of the two sides (may be equal).
    ///   - secret: 128 bits of randomness for hashing and ISN generation.
    ///   - cookieKey: the SYN-cookie key, when cookies must agree with other makers (every worker and
    ///     the XDP program share one); nil derives a key from `secret`.
    ///   - previousCookieKey: the previous cookie key, still accepted (nil: none).
    ///   - templates: the persistence templates every worker of the runtime shares; nil makes a table of
    ///     this data plane's own when a service needs one.
    ///   - ownership: who owns which frame, the same for every worker of the runtime; nil derives it from
    ///     the worker count (Microsoft's RSS key, an even indirection table).
    ///   - fragments: the fragment table every worker of the runtime shares; nil makes one of this data
    ///     plane's own.
    public init(
        configuration: DataplaneConfiguration, worker: Int, workerCount: Int, externalInterface: Int32,
        internalInterface: Int32, secret: (UInt64, UInt64), cookieKey: (UInt64, UInt64)? = nil,
        previousCookieKey: (UInt64, UInt64)? = nil, templates: PersistenceTemplates? = nil,
        ownership: FlowOwnership? = nil, fragments: FragmentTable? = nil
    ) {
        precondition(workerCount > 0 && worker >= 0 && worker < workerCount)
        precondition(ownership == nil || ownership!.workerCount == workerCount)
        self.ownership = workerCount > 1 ? ownership ?? FlowOwnership(workerCount: workerCount) : nil
        self.counters = Counters()
        self.configuration = configuration
        self.services = ServiceTable(configuration: configuration, worker: worker, workerCount: workerCount)
        self.serverTraffic = Self.remapTraffic([], from: nil, to: services)
        let capacity = max(configuration.connectionCapacity, 16)
        self.table = ConnectionTable(capacity: capacity, seed: secret, worker: worker, workerCount: workerCount)
        self.wheel = TimerWheel(capacity: capacity)
        // A different key for ISNs than for table hashing: learning one says nothing about the other.
        self.isnGenerator = SequenceNumberGenerator(
            secret: (secret.0 ^ 0x5851_F42D_4C95_7F2D, secret.1 &+ 0x1405_7B7E_F767_814F))
        // Room for a burst of RS SYN retransmissions and replayed held segments per batch.
        self.output = OutputQueue(capacity: 256)
        self.resolutions = ResolutionRequests()
        self.worker = worker
        self.workerCount = workerCount
        self.externalInterface = externalInterface
        self.internalInterface = internalInterface
        // A third key, for SYN cookies, unless the caller shares one.
        self.synProxy = SynProxy(
            configuration: configuration.synProxy, services: configuration.services, connectionCapacity: capacity,
            cookieKey: cookieKey ?? (secret.0 &+ 0x2545_F491_4F6C_DD1D, secret.1 ^ 0x9E37_79B9_7F4A_7C15),
            previousCookieKey: previousCookieKey)
        self.expiredScratch.reserveCapacity(4096)
        // A fourth key, for persistence template keys.
        self.templateHashKey = (secret.0 ^ 0x3C6E_F372_FE94_F82B, secret.1 &+ 0xA54F_F53A_5F1D_36F1)
        self.templates = templates
        self.syncOutbox = SyncOutbox(capacity: configuration.syncOutboxCapacity)
        // A fifth, for the UDP source buckets.
        self.udpBudget = Self.udpBudget(
            configuration, capacity: capacity,
            hashKey: (secret.0 ^ 0x0BAD_C0DE_1CEB_00DA, secret.1 &+ 0x6A09_E667_F3BC_C909))
        // A sixth, for the fragment table's slots.
        self.fragments =
            fragments ?? FragmentTable(hashKey: (secret.0 ^ 0x1F83_D9AB_FB41_BD6B, secret.1 &+ 0x5BE0_CD19_137E_2179))
        ensureTemplates()
        recountServiceLoad()
        table.pinLocalAddresses(services.pools.flatMap(\.addresses))
    }

    /// An empty budget for `configuration`; `recountServiceLoad` fills it from the table.
    static func udpBudget(_ configuration: DataplaneConfiguration, capacity: Int, hashKey: (UInt64, UInt64))
        -> UDPFlowBudget
    {
        UDPFlowBudget(
            tableCapacity: capacity, serviceLimit: configuration.udpFlowLimit,
            sourceLimit: configuration.udpSourceFlowLimit, services: configuration.services.count, hashKey: hashKey)
    }

    /// Makes a table of its own when a service has persistence and the runtime gave none.
    mutating func ensureTemplates() {
        if templates == nil && services.hasPersistence { templates = PersistenceTemplates(hashKey: templateHashKey) }
    }

    /// Swaps in a new configuration at a batch boundary. Existing connections keep their
    /// translation (every address they need is stored in the entry); unchanged services keep
    /// their scheduler state and pools keep their allocated ports.
    public mutating func apply(configuration: DataplaneConfiguration) {
        let previous = services
        synProxy.apply(
            configuration.synProxy, services: configuration.services,
            previous: previous.services.map(\.configuration))
        services = ServiceTable(
            configuration: configuration, worker: worker, workerCount: workerCount, previous: previous)
        serverTraffic = Self.remapTraffic(serverTraffic, from: previous, to: services)
        self.configuration.services = configuration.services
        self.configuration.timeouts = configuration.timeouts
        self.configuration.mssClamp = configuration.mssClamp
        self.configuration.decrementTTL = configuration.decrementTTL
        self.configuration.synProxy = configuration.synProxy
        self.configuration.udpFlowLimit = configuration.udpFlowLimit
        self.configuration.udpSourceFlowLimit = configuration.udpSourceFlowLimit
        udpBudget = Self.udpBudget(self.configuration, capacity: table.capacity, hashKey: udpBudget.hashKey)
        ensureTemplates()
        recountServiceLoad()
        startNoDestinationSweep()
        table.pinLocalAddresses(services.pools.flatMap(\.addresses))
    }

    /// True when a frame of a flow in `direction` (inbound: client to VIP; outbound: server to LIP)
    /// arrived on the side it does not belong to. A one-interface gateway has no wrong side.
    @inlinable @inline(__always)
    func arrivedOnWrongSide(_ direction: FlowDirection) -> Bool {
        externalInterface != internalInterface && arrivalSide != (direction == .outbound ? .internal : .external)
    }

    /// This worker's index.
    public var workerIndex: Int { worker }

    /// Number of workers sharing the LIPs' port ranges.
    public var workers: Int { workerCount }

    /// Number of connections in this worker's table.
    public var connectionCount: Int { table.count }

    /// Local ports in use and allocation failures, summed over this worker's pools.
    public var localPortUsage: (inUse: Int, exhausted: UInt64) {
        var used = 0
        var failed: UInt64 = 0
        for p in services.pools {
            used += p.inUseTotal
            failed &+= p.exhausted
        }
        return (used, failed)
    }

    /// Processes one received frame in place.
    /// - Parameters:
    ///   - frame: the frame's buffer, from the first byte of the Ethernet header to the end of the
    ///     UMEM chunk (so a rewrite may grow the frame up to `frame.count`).
    ///   - length: the frame's length on input; the length to transmit on output.
    ///   - side: the interface it arrived on.
    ///   - now: monotonic milliseconds.
    ///   - network: the current L2/L3 snapshot.
    ///   - handedOff: true when another worker received the frame and passed it here (it was counted as
    ///     received there, and is never handed on).
    /// - Returns: where to send the frame, to which worker to hand it, or why it was dropped (already
    ///   counted).
    @inlinable
    public mutating func process(
        frame: inout MutableSpan<UInt8>, length: inout Int, from side: Side, now: UInt64,
        network: borrowing NetworkView, handedOff: Bool = false
    ) -> Verdict {
        if !handedOff { counters.count(side == .external ? .receivedExternal : .receivedInternal) }
        arrivalSide = side
        clock = now
        self.handedOff = handedOff
        guard length <= frame.count else { return drop(.truncated) }
        if let reason = PacketParser.parse(frame.span, length: length, into: &info) {
            return drop(reason)
        }
        if info.fragment != .whole {
            return processFragment(frame: &frame, length: &length, now: now, network: network)
        }
        let verdict: Verdict
        switch info.l4Protocol {
        case 6, 17:
            verdict = processTransport(frame: &frame, length: &length, now: now, network: network)
        case 1, 58:
            verdict = processICMP(frame: &frame, length: &length, now: now, network: network)
        default:
            verdict = .drop(.unsupportedProtocol)
        }
        if case .drop(let reason) = verdict { counters.count(reason) }
        return verdict
    }

    @inlinable
    mutating func drop(_ reason: DropReason) -> Verdict {
        counters.count(reason)
        return .drop(reason)
    }

    /// Runs expired timers. Call at least every few milliseconds, at batch boundaries.
    public mutating func advance(now: UInt64) {
        clock = now
        // The wheel is a stored property of self, so the callback cannot touch self: collect the
        // ids into a scratch array moved out of self (keeps its capacity, no allocation) and act after.
        var expired = expiredScratch
        expiredScratch = []
        expired.removeAll(keepingCapacity: true)
        wheel.advance(to: now) { id in expired.append(id) }
        for id in expired { expireOrRearm(id, now: now) }
        expiredScratch = expired
        if proxyResends.count > 0 { resendProxyHeaders(now: now) }
        if fragmentHold.count > 0 { expireHeldFragments(now: now) }
        let usage = localPortUsage
        counters[.connections] = UInt64(table.count)
        counters[.localPortsInUse] = UInt64(usage.inUse)
        counters[.localPortAllocationFailures] = usage.exhausted
    }

    /// Frames the data plane generated itself (RSTs, ICMP errors, SYNs to real servers) waiting to be
    /// sent. The worker copies each into a free UMEM frame and transmits it on `side`.
    public var pendingOutputCount: Int { output.count }

    /// Calls `body` with the bytes and side of pending output `index`.
    public func withPendingOutput<R>(_ index: Int, _ body: (Span<UInt8>, Side) -> R) -> R {
        output.withFrame(index, body)
    }

    /// Forgets the pending output after the worker has sent it (or given up).
    public mutating func clearPendingOutput() { output.removeAll() }

    /// Next-hop addresses that had no neighbour entry, for the worker to ask the kernel to resolve.
    public var pendingResolutionCount: Int { resolutions.count }

    public func pendingResolution(_ index: Int) -> (address: IPAddress, interfaceIndex: Int32) {
        resolutions[index]
    }

    public mutating func clearPendingResolutions() { resolutions.removeAll() }
}
