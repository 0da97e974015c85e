// The kernel is Sluice's L2/L3 control plane (docs/design.md §1): ARP/ND, routes and interfaces live in the kernel
// and Sluice only mirrors them. NetlinkMirror dumps links, the routes of every table with the IPv4/IPv6
// ip rules that pick among them (or, with `interfaces.route_table`, the routes of that one table) and the
// IPv4/IPv6 neighbour tables over rtnetlink, then follows RTNLGRP_LINK, RTNLGRP_IPV4_ROUTE,
// RTNLGRP_IPV6_ROUTE, RTNLGRP_IPV4_RULE, RTNLGRP_IPV6_RULE and RTNLGRP_NEIGH on a background thread,
// publishing a new immutable NetworkView after each burst of changes. The data plane evaluates the rules
// as the kernel would for a locally output packet (NetworkView+Lookup.swift, RoutingRule.swift). Sluice
// never guesses a MAC: a missing neighbour makes the worker drop the frame and call `requestResolution`,
// which asks the kernel to resolve (NTF_USE) instead of sending anything itself.
//
// Sockets are opened by `init` on the calling thread, so the mirror follows the network namespace of
// that thread (sluice runs under `ip netns exec`; tests call setns on a dedicated thread first).
//
// Threads: one background thread owns the event socket, the request socket and the mutable tables; nothing
// else touches them. Workers see only the NetlinkViewBox (an atomic generation and a mutex-guarded
// snapshot) and the resolution queue (a mutex-guarded rate limiter plus a self-pipe to wake the thread):
// no worker ever makes a netlink call or waits for the kernel.

import SluiceCore
import SluicePacket
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Mirrors the kernel's interfaces, routes and neighbours, and publishes them as NetworkView snapshots.
public final class NetlinkMirror: Sendable {
    /// Tunables.
    public struct Configuration: Sendable {
        /// The one routing table to route by (`interfaces.route_table`, e.g. a VRF's: the kernel's l3mdev
        /// rule is not evaluated), its ip rules not consulted; nil (the default) for every table and the
        /// ip rules, evaluated as the kernel does.
        public var table: UInt32?
        /// Minimum time between two resolution requests for the same (interface, address).
        public var resolutionInterval: Duration
        /// A full re-dump at this interval, as a safety net for changes the kernel does not announce.
        public var resyncInterval: Duration
        /// Receive buffer of the event socket (SO_RCVBUFFORCE); a larger one makes ENOBUFS rarer.
        public var eventBufferSize: Int
        /// The shortest time between two snapshots while changes keep coming (the first change after a
        /// quiet spell is published at once): bounds what a routing daemon's table push costs.
        public var publishHoldDown: Duration

        public init(
            table: UInt32? = nil, resolutionInterval: Duration = .milliseconds(500),
            resyncInterval: Duration = .seconds(30), eventBufferSize: Int = 4 << 20,
            publishHoldDown: Duration = .milliseconds(10)
        ) {
            self.publishHoldDown = publishHoldDown
            self.table = table
            self.resolutionInterval = resolutionInterval
            self.resyncInterval = resyncInterval
            self.eventBufferSize = eventBufferSize
        }
    }

    /// What the mirror has done so far (for metrics).
    public struct Statistics: Sendable, Equatable {
        /// Event messages received from the kernel.
        public var events: UInt64
        /// Full re-dumps (after ENOBUFS, an unannounced change, or the periodic safety net).
        public var resyncs: UInt64
        /// Datagrams that ended in bytes that were not a whole message.
        public var malformed: UInt64
        /// Failed socket operations or dumps (retried).
        public var errors: UInt64
        /// Resolution requests the kernel accepted.
        public var resolutionRequests: UInt64
        /// Resolution requests skipped because the same neighbour was asked for recently.
        public var resolutionsRateLimited: UInt64
        /// Resolution requests the kernel refused or that could not be sent.
        public var resolutionFailures: UInt64
    }

    /// The published snapshots.
    let box: NetlinkViewBox
    let shared: Shared
    let wakeup: NetlinkWakeup
    let resolutionInterval: Duration
    private let thread: Mutex<pthread_t?>

    /// Opens the sockets in the calling thread's network namespace, subscribes to changes, dumps the
    /// current state (published as generation 1 before this returns) and starts the background thread.
    /// - Throws: `XDPError` when a socket cannot be opened or the first dump fails.
    public init(configuration: Configuration = Configuration()) throws(XDPError) {
        let shared = Shared()
        let wakeup = try NetlinkWakeup()
        let loop = try Loop(shared: shared, configuration: configuration, wakeup: wakeup.readEnd)
        self.shared = shared
        self.wakeup = wakeup
        box = shared.box
        resolutionInterval = configuration.resolutionInterval
        thread = Mutex(try Loop.start(loop))
    }

    deinit { stop() }

    /// The generation of the latest snapshot; call once per batch and take a new `snapshot()` when it
    /// differs from the one in hand.
    public func currentGeneration() -> UInt64 { box.currentGeneration() }

    /// The latest snapshot.
    public func snapshot() -> NetworkView { box.snapshot() }

    /// The index of the interface called `name` in the latest snapshot. Not for the hot path.
    public func interfaceIndex(named name: String) -> Int32? { box.snapshot().interfaceIndex(named: name) }

    /// Stops the background thread and closes its sockets. Snapshots stay readable; no further ones are
    /// published, and resolution requests are refused. Idempotent.
    public func stop() {
        shared.stopping.store(true, ordering: .releasing)
        wakeup.signal()
        let running = thread.withLock { handle in
            let current = handle
            handle = nil
            return current
        }
        if let running { _ = pthread_join(running, nil) }
    }

    /// Counters since start.
    public func statistics() -> Statistics {
        Statistics(
            events: shared.events.load(ordering: .relaxed), resyncs: shared.resyncs.load(ordering: .relaxed),
            malformed: shared.malformed.load(ordering: .relaxed), errors: shared.errors.load(ordering: .relaxed),
            resolutionRequests: shared.resolutionRequests.load(ordering: .relaxed),
            resolutionsRateLimited: shared.resolutionsRateLimited.load(ordering: .relaxed),
            resolutionFailures: shared.resolutionFailures.load(ordering: .relaxed))
    }

    /// State shared between the mirror's users and its thread.
    final class Shared: Sendable {
        let box = NetlinkViewBox()
        let stopping = Atomic<Bool>(false)
        let events = Atomic<UInt64>(0)
        let resyncs = Atomic<UInt64>(0)
        let malformed = Atomic<UInt64>(0)
        let errors = Atomic<UInt64>(0)
        let resolutionRequests = Atomic<UInt64>(0)
        let resolutionsRateLimited = Atomic<UInt64>(0)
        let resolutionFailures = Atomic<UInt64>(0)
        let resolutions = Mutex(ResolutionQueue())
    }
}
