// The mirror's background thread. It owns two sockets and the mutable tables:
// - the event socket is opened and subscribed *before* the first dump, so that no change between the
//   dump and the subscription is missed (events older than the dump are replayed harmlessly: each carries
//   the full state of one object, see NetlinkTables);
// - the request socket serves the initial dump, every re-dump, and the queued resolution requests.
// Each wake-up sends queued resolution requests, drains every queued event datagram, applies them,
// re-dumps when needed (ENOBUFS, truncation, unannounced changes, the periodic safety net), and publishes
// one snapshot if anything changed. The thread is a plain pthread (no Foundation in this module); it
// sleeps in poll(2) on the event socket and a self-pipe that requests and stop() write to.
//
// Cost under a storm (a routing daemon pushing a full table): each message updates the working tables
// in O(1); only a snapshot costs O(routes). So a snapshot goes out at once after a quiet spell, but
// while changes keep coming the next waits out a hold-down (the loop sleeps until it ends, collecting
// events meanwhile): `publishHoldDown`, or ten times what the last snapshot took to build if longer, so
// that building snapshots takes at most about a tenth of a core however large the table. Whether
// anything changed comes from the messages themselves, not from comparing the tables with the last
// published copy, which made every event batch copy and compare the whole table.

import SluiceCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

extension NetlinkMirror {
    /// Everything the background thread owns.
    final class Loop {
        let events: NetlinkSocket
        let requests: NetlinkSocket
        let shared: Shared
        let wakeup: Int32
        let table: UInt32?
        let resyncInterval: Duration
        let publishHoldDown: Duration
        /// How long the last snapshot took to build (the hold-down is at least `holdDownPerBuild` times it).
        var lastBuild = Duration.zero
        static let holdDownPerBuild = 10
        var tables: NetlinkTables
        var generation: UInt64 = 0
        var sequence: UInt32 = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 16)

        /// Subscribes, dumps, and publishes generation 1.
        init(shared: Shared, configuration: Configuration, wakeup: Int32) throws(XDPError) {
            events = try NetlinkSocket(
                groups: [
                    Netlink.groupLink, Netlink.groupNeighbour, Netlink.groupIPv4Route, Netlink.groupIPv6Route,
                    Netlink.groupIPv4Rule, Netlink.groupIPv6Rule,
                ],
                receiveBufferSize: configuration.eventBufferSize)
            requests = try NetlinkSocket(receiveBufferSize: 1 << 20)
            self.shared = shared
            self.wakeup = wakeup
            table = configuration.table
            resyncInterval = configuration.resyncInterval
            publishHoldDown = configuration.publishHoldDown
            tables = NetlinkTables(table: configuration.table)
            tables = try dumpAll()
            publish()
        }

        /// Starts `loop` on a new thread, which then owns it.
        static func start(_ loop: Loop) throws(XDPError) -> pthread_t {
            let context = unsafe Unmanaged.passRetained(loop).toOpaque()
            var handle = pthread_t()
            let result = unsafe pthread_create(
                &handle, nil,
                { raw in
                    guard let raw = unsafe raw else { return nil }
                    let loop = unsafe Unmanaged<Loop>.fromOpaque(raw).takeRetainedValue()
                    loop.run()
                    return nil
                }, context)
            guard result == 0 else {
                unsafe Unmanaged<Loop>.fromOpaque(context).release()
                throw XDPError(operation: "start rtnetlink mirror thread", code: result)
            }
            return handle
        }

        func run() {
            var lastDump = ContinuousClock.now
            var lastPublish = ContinuousClock.now
            var mustResync = false
            var changed = false
            while !shared.stopping.load(ordering: .acquiring) {
                // With a change held back, sleep only until its hold-down ends.
                var timeout = Self.idleWaitMilliseconds
                if changed && !mustResync {
                    let left = (lastPublish + holdDown - ContinuousClock.now).components
                    timeout = Int32(clamping: max(left.seconds * 1000 + left.attoseconds / 1_000_000_000_000_000, 0))
                }
                let readable = NetlinkWakeup.wait(for: events.descriptor, orSignalOn: wakeup, milliseconds: timeout)
                sendResolutions()
                if readable {
                    let drained = drainEvents()
                    changed = changed || drained.changed
                    mustResync = mustResync || drained.mustResync
                }
                if mustResync || ContinuousClock.now - lastDump >= resyncInterval {
                    do {
                        let fresh = try dumpAll()
                        // Compared once per dump (every resyncInterval, or after lost events): O(routes).
                        changed = changed || fresh != tables
                        tables = fresh
                        shared.resyncs.add(1, ordering: .relaxed)
                        mustResync = false
                        lastDump = ContinuousClock.now
                    } catch {
                        shared.errors.add(1, ordering: .relaxed)
                        mustResync = true
                    }
                }
                if !mustResync && changed && ContinuousClock.now - lastPublish >= holdDown {
                    publish()
                    changed = false
                    lastPublish = ContinuousClock.now
                }
            }
        }

        /// The least time between two snapshots while changes keep coming.
        var holdDown: Duration { max(publishHoldDown, lastBuild * Self.holdDownPerBuild) }

        /// The longest sleep with nothing pending: the stop flag and the resync timer are looked at after.
        static let idleWaitMilliseconds: Int32 = 1000

        /// Applies the queued events (at most 256 datagrams, so that a flood of changes cannot starve
        /// publishing). `changed` when a message changed what the data plane sees; `mustResync` when a
        /// re-dump is needed: a message asked for it, or messages were lost or garbled.
        private func drainEvents() -> (changed: Bool, mustResync: Bool) {
            var mustResync = false
            var changed = false
            for _ in 0..<256 {
                let received: NetlinkSocket.Received
                do {
                    received = try events.receive(into: &buffer)
                } catch {
                    shared.errors.add(1, ordering: .relaxed)
                    return (changed, true)
                }
                switch received {
                case .wouldBlock:
                    return (changed, mustResync)
                case .overrun:
                    mustResync = true
                case .bytes(let count):
                    let (messages, malformed) = NetlinkMessage.split(Array(buffer[0..<count])[...])
                    if malformed {
                        shared.malformed.add(1, ordering: .relaxed)
                        mustResync = true
                    }
                    shared.events.add(UInt64(messages.count), ordering: .relaxed)
                    for message in messages {
                        switch tables.apply(message) {
                        case .resync:
                            // It may have changed the tables already (a deleted link): publish after the dump.
                            mustResync = true
                            changed = true
                        case .changed: changed = true
                        case .unchanged: break
                        }
                    }
                }
            }
            return (changed, mustResync)
        }

        private func publish() {
            generation += 1
            let start = ContinuousClock.now
            shared.box.publish(tables.view(generation: generation))
            lastBuild = ContinuousClock.now - start
        }

        /// Links, then IPv4 and IPv6 routes, then IPv4 and IPv6 neighbours, then (unless one table is
        /// named) IPv4 and IPv6 rules, into fresh tables. A dump the
        /// kernel marks as interrupted (NLM_F_DUMP_INTR: the table changed meanwhile) is redone, up to
        /// three times; the events queued meanwhile repair whatever the last attempt missed.
        func dumpAll() throws(XDPError) -> NetlinkTables {
            var attempt = 0
            while true {
                attempt += 1
                var fresh = NetlinkTables(table: table)
                var interrupted = false
                var requests: [(UInt16, UInt8)] = [
                    (Netlink.getLink, Netlink.unspecified), (Netlink.getRoute, Netlink.inet),
                    (Netlink.getRoute, Netlink.inet6), (Netlink.getNeighbour, Netlink.inet),
                    (Netlink.getNeighbour, Netlink.inet6),
                ]
                if table == nil { requests += [(Netlink.getRule, Netlink.inet), (Netlink.getRule, Netlink.inet6)] }
                for (type, family) in requests {
                    interrupted = try dump(type, family: family, into: &fresh) || interrupted
                }
                // Dumped, even if empty: a kernel without rules routes nothing.
                if table == nil { fresh.rulesKnown = true }
                if !interrupted || attempt >= 3 { return fresh }
            }
        }

        /// One dump; true when the kernel flagged it as interrupted.
        private func dump(_ type: UInt16, family: UInt8, into tables: inout NetlinkTables) throws(XDPError) -> Bool {
            sequence &+= 1  // wraps; only equality with the reply matters
            let expected = sequence
            try requests.send(NetlinkRequest.dump(type, family: family, sequence: expected))
            var interrupted = false
            while true {
                guard requests.waitReadable(milliseconds: 5000) else {
                    throw XDPError(operation: "rtnetlink dump", code: ETIMEDOUT)
                }
                let received = try requests.receive(into: &buffer)
                guard case .bytes(let count) = received else {
                    if received == .overrun { throw XDPError(operation: "rtnetlink dump", code: ENOBUFS) }
                    continue
                }
                let (messages, malformed) = NetlinkMessage.split(Array(buffer[0..<count])[...])
                if malformed { shared.malformed.add(1, ordering: .relaxed) }
                for message in messages where message.sequence == expected {
                    if message.flags & Netlink.flagDumpInterrupted != 0 { interrupted = true }
                    switch message.type {
                    case Netlink.typeDone:
                        return interrupted
                    case Netlink.typeError:
                        let code = message.errorCode ?? EPROTO
                        if code != 0 {
                            throw XDPError(operation: "rtnetlink dump", subject: "type \(type)", code: code)
                        }
                    default:
                        _ = tables.apply(message)
                    }
                }
            }
        }
    }
}
