// Connection sync between the gateways of a VIP (docs/sync.md). One UDP socket on `sync.listen`:
// - every `flushInterval` the workers' queued events are sealed into datagrams and sent to every peer,
//   at most `datagramsPerRound` datagrams a round (the bandwidth bound; what does not fit waits for
//   the refresh and is counted as deferred); every `heartbeatInterval` a heartbeat with this gateway's
//   LIPs; every `sync.refresh` every live connection again;
// - a datagram from a peer is checked (SyncEngine) and its records installed in the workers; a bulk
//   request is answered with the whole table; at start this gateway asks every peer for theirs;
// - a peer that dies has its LIPs adopted through the control plane (steered to the workers and
//   announced with ours), and given back once it is back and re-synced;
// - at a graceful stop the peers are told (`leaving`) so that they take the LIPs over at once.

import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import SluiceAdmin
import SluiceCore
import SluicePacket
import Synchronization

/// Sends and receives connection events.
public struct SyncService<C: Clock>: Service where C.Duration == Duration {
    let options: SyncOptions
    let key: (UInt64, UInt64)
    let control: ControlPlane
    let dataPlane: any SyncDataPlane
    let board: SyncBoard
    let clock: C
    let logger: Logger

    /// Longest a connection event waits before it is sent (the batching delay).
    public static var flushInterval: Duration { .milliseconds(100) }
    /// A heartbeat this often, so that peers can tell silence from death.
    public static var heartbeatInterval: Duration { .seconds(1) }
    /// Datagrams sent per peer per round at most: 20 000 a second, about 27 MB/s of records.
    public static var datagramsPerRound: Int { 2000 }
    /// Bytes the kernel may queue on the sync socket each way. A round sends up to `datagramsPerRound`
    /// datagrams of up to 1400 bytes per peer back to back; the default buffer (about 208 KiB) drops a
    /// burst of 150 (measured: make perf-sync), and a lost event waits for the next refresh.
    public static var socketBufferBytes: Int { 16 << 20 }
    /// Records received and not yet installed at most; more are dropped and counted (`backlog`).
    public static var maximumPendingRecords: Int { 1 << 20 }

    public init(
        options: SyncOptions, key: (UInt64, UInt64), control: ControlPlane, dataPlane: any SyncDataPlane,
        board: SyncBoard, clock: C, logger: Logger
    ) {
        self.options = options
        self.key = key
        self.control = control
        self.dataPlane = dataPlane
        self.board = board
        self.clock = clock
        self.logger = logger
    }

    /// The group's key from `sync.key_file`: a 128-bit digest of the file, under other fixed keys than
    /// the SYN-cookie key's, so one file can serve both without one key telling anything of the other.
    public static func key(fileBytes: [UInt8]) -> (UInt64, UInt64)? {
        guard let file = CookieKeyFile(bytes: fileBytes) else { return nil }
        return file.key(epoch: .max)
    }

    typealias Envelope = AddressedEnvelope<ByteBuffer>

    public func run() async throws {
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: options.listen.address.description, port: options.listen.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<Envelope, Envelope>(wrappingChannelSynchronously: channel)
                }
            }
        await enlargeBuffers(channel.channel)
        let epoch = UInt64(max(0, Date().timeIntervalSince1970 * 1000))
        let shared = Shared(
            SyncEngine<C.Instant>(
                key: key, epoch: epoch, peers: options.peers,
                deadAfter: .milliseconds(options.deadAfterMilliseconds)))
        let peerAddresses = options.peers.compactMap {
            try? SocketAddress(ipAddress: $0.address.description, port: $0.port)
        }
        logger.notice(
            "event=sync_started listen=\(options.listen) peers=\(options.peers.map(\.description).joined(separator: ","))"
        )
        try await channel.executeThenClose { inbound, outbound in
            @Sendable func send(_ datagrams: [[UInt8]], to targets: [SocketAddress]) async -> Int {
                var sent = 0
                for target in targets {
                    for bytes in datagrams.prefix(Self.datagramsPerRound) {
                        let envelope = Envelope(remoteAddress: target, data: ByteBuffer(bytes: bytes))
                        if (try? await outbound.write(envelope)) != nil { sent += 1 }
                    }
                }
                return sent
            }
            @Sendable func sendRecords(_ records: [SyncRecord], to targets: [SocketAddress]) async {
                guard !records.isEmpty else { return }
                let datagrams = shared.engine.withLock { $0.seal(.entries, records: records) }
                let fitting = min(datagrams.count, Self.datagramsPerRound)
                let sent = await send(Array(datagrams.prefix(fitting)), to: targets)
                let deferred = max(0, records.count - fitting * SyncMessage.recordsPerMessage)
                shared.totals.withLock {
                    $0.datagramsSent &+= UInt64(sent)
                    $0.recordsSent &+= UInt64(
                        min(records.count, fitting * SyncMessage.recordsPerMessage) * targets.count)
                    $0.recordsDeferred &+= UInt64(deferred)
                }
            }
            let underlying = channel.channel
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask {
                    // Sending, liveness, and the stop.
                    _ = await send(shared.engine.withLock { $0.seal(.bulkRequest) }, to: peerAddresses)
                    let ownAddresses = await control.state.configuration.localAddressGroups.flatMap(\.addresses)
                    var nextHeartbeat = clock.now
                    var nextRefresh = clock.now.advanced(by: .milliseconds(options.refreshMilliseconds))
                    var next = clock.now
                    while !Task.isCancelled && !Task.isShuttingDownGracefully {
                        let now = clock.now
                        // What arrived since the last round, installed in one visit per worker.
                        let arrived = shared.pending.withLock { pending in
                            defer { pending = Pending() }
                            return pending
                        }
                        await dataPlane.install(arrived.records)
                        if arrived.dropped > 0 {
                            shared.totals.withLock { $0.refused["backlog", default: 0] &+= arrived.dropped }
                        }
                        for peer in arrived.bulkRequests {
                            let records = await dataPlane.snapshot(includeSynced: true)
                            logger.notice("event=sync_bulk_sent peer=\(peer) entries=\(records.count)")
                            if let target = try? SocketAddress(ipAddress: peer.address.description, port: peer.port) {
                                await sendRecords(records, to: [target])
                            }
                            shared.engine.withLock { $0.answeredBulkRequest(of: peer) }
                        }
                        await sendRecords(await dataPlane.takeEvents(), to: peerAddresses)
                        if now >= nextRefresh {
                            await sendRecords(await dataPlane.snapshot(includeSynced: false), to: peerAddresses)
                            nextRefresh = now.advanced(by: .milliseconds(options.refreshMilliseconds))
                        }
                        if now >= nextHeartbeat {
                            let beat = shared.engine.withLock { $0.seal(.heartbeat, addresses: ownAddresses) }
                            let sent = await send(beat, to: peerAddresses)
                            shared.totals.withLock { $0.datagramsSent &+= UInt64(sent) }
                            nextHeartbeat = now.advanced(by: Self.heartbeatInterval)
                        }
                        let (changes, adopted) = shared.engine.withLock { ($0.tick(at: now), $0.adoptedLocalAddresses) }
                        for change in changes {
                            switch change {
                            case .lost(let peer, let addresses):
                                logger.warning(
                                    "event=sync_peer_lost peer=\(peer) adopted=\(addresses.map(\.description).joined(separator: ","))"
                                )
                            case .back(let peer, let addresses):
                                logger.notice(
                                    "event=sync_peer_back peer=\(peer) returned=\(addresses.map(\.description).joined(separator: ","))"
                                )
                            }
                        }
                        if !changes.isEmpty { await control.setAdoptedLocalAddresses(adopted) }
                        await board.publish(status(shared, now: now))
                        next = next.advanced(by: Self.flushInterval)
                        if next < now { next = now.advanced(by: Self.flushInterval) }
                        let deadline = next
                        do {
                            try await cancelWhenGracefulShutdown {
                                try await clock.sleep(until: deadline, tolerance: nil)
                            }
                        } catch {
                            break
                        }
                    }
                    // The last events, then the goodbye: the peers take our LIPs over at once.
                    await sendRecords(await dataPlane.takeEvents(), to: peerAddresses)
                    _ = await send(shared.engine.withLock { $0.seal(.leaving) }, to: peerAddresses)
                    logger.notice("event=sync_stopped peers told")
                    // Ends the receiving loop below.
                    underlying.close(promise: nil)
                }
                // Receiving, until the sending loop closes the socket at the stop.
                do {
                    for try await envelope in inbound {
                        guard let ip = envelope.remoteAddress.ipAddress, let address = IPAddress(ip),
                            let port = envelope.remoteAddress.port
                        else { continue }
                        let bytes = Array(envelope.data.readableBytesView)
                        let source = SyncOptions.Endpoint(address: address, port: port)
                        let delivery = shared.engine.withLock { $0.receive(bytes, from: source, at: clock.now) }
                        switch delivery {
                        case .records(let records):
                            shared.pending.withLock { pending in
                                // Bounded: a peer cannot make this gateway hold more than a table's worth.
                                if pending.records.count < Self.maximumPendingRecords {
                                    pending.records += records
                                } else {
                                    pending.dropped &+= UInt64(records.count)
                                }
                            }
                        case .bulkRequest(let peer):
                            shared.pending.withLock { $0.bulkRequests.append(peer) }
                        case .nothing:
                            break
                        }
                    }
                } catch {
                    // The socket closed under the loop: the stop.
                }
            }
        }
    }

    /// What the receiving loop hands the sending loop.
    struct Pending: Sendable {
        var records: [SyncRecord] = []
        var bulkRequests: [SyncOptions.Endpoint] = []
        var dropped: UInt64 = 0
    }

    /// Raises the socket's buffers past net.core.rmem_max/wmem_max (SO_*BUFFORCE needs CAP_NET_ADMIN,
    /// which the data plane has anyway); falls back to the capped options, and says so.
    func enlargeBuffers(_ channel: any Channel) async {
        for (force, capped) in [(SO_RCVBUFFORCE, SO_RCVBUF), (SO_SNDBUFFORCE, SO_SNDBUF)] {
            let bytes = SocketOptionValue(Self.socketBufferBytes)
            do {
                try await channel.setOption(
                    ChannelOptions.socketOption(NIOBSDSocket.Option(rawValue: force)), value: bytes
                ).get()
            } catch {
                try? await channel.setOption(
                    ChannelOptions.socketOption(NIOBSDSocket.Option(rawValue: capped)), value: bytes
                ).get()
                logger.warning("event=sync_buffer_capped error=\"\(error)\" the kernel's limit applies")
            }
        }
    }

    /// The engine, the running totals and what arrived, shared by the receiving and sending loops.
    final class Shared: Sendable {
        let engine: Mutex<SyncEngine<C.Instant>>
        let totals = Mutex(SyncStatus())
        let pending = Mutex(Pending())

        init(_ engine: SyncEngine<C.Instant>) {
            self.engine = Mutex(engine)
        }
    }

    func status(_ shared: Shared, now: C.Instant) -> SyncStatus {
        var status = shared.totals.withLock { $0 }
        shared.engine.withLock { e in
            status.datagramsReceived = e.datagramsReceived
            status.recordsReceived = e.recordsReceived
            status.refused.merge(e.refused) { $0 + $1 }
            status.peers = e.peers.map { peer in
                SyncStatus.Peer(
                    endpoint: peer.endpoint.description, alive: peer.alive,
                    silenceSeconds: peer.lastHeard.map { Self.seconds($0.duration(to: now)) }, adopted: peer.adopted,
                    localAddresses: peer.localAddresses.map(\.description))
            }
        }
        return status
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}
