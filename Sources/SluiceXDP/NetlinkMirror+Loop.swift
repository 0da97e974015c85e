// The mirror's background thread. It owns two sockets and the mutable tables:
// - the event socket is opened and subscribed *before* the first dump, so that no change between the
//   dump and the subscription is missed (events older than the dump are replayed harmlessly: each carries
//   the full state of one object, see NetlinkTables);
// - the request socket serves the initial dump, every re-dump, and the queued resolution requests.
// Each wake-up sends queued resolution requests, drains every queued event datagram, applies them,
// re-dumps when needed (ENOBUFS, truncation, unannounced changes, the periodic safety net), and publishes
// one snapshot if anything changed. The thread is a plain pthread (no Foundation in this module); it
// sleeps in poll(2) on the event socket and a self-pipe that requests and stop() write to.

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
        let table: UInt32
        let resyncInterval: Duration
        var tables: NetlinkTables
        var generation: UInt64 = 0
        var sequence: UInt32 = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 16)

        /// Subscribes, dumps, and publishes generation 1.
        init(shared: Shared, configuration: Configuration, wakeup: Int32) throws(XDPError) {
            events = try NetlinkSocket(
                groups: [Netlink.groupLink, Netlink.groupNeighbour, Netlink.groupIPv4Route, Netlink.groupIPv6Route],
                receiveBufferSize: configuration.eventBufferSize)
            requests = try NetlinkSocket(receiveBufferSize: 1 << 20)
            self.shared = shared
            self.wakeup = wakeup
            table = configuration.table
            resyncInterval = configuration.resyncInterval
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
            var mustResync = false
            var published = tables
            while !shared.stopping.load(ordering: .acquiring) {
                let readable = NetlinkWakeup.wait(for: events.descriptor, orSignalOn: wakeup, milliseconds: 1000)
                sendResolutions()
                if readable && drainEvents() { mustResync = true }
                if mustResync || ContinuousClock.now - lastDump >= resyncInterval {
                    do {
                        tables = try dumpAll()
                        shared.resyncs.add(1, ordering: .relaxed)
                        mustResync = false
                        lastDump = ContinuousClock.now
                    } catch {
                        shared.errors.add(1, ordering: .relaxed)
                        mustResync = true
                    }
                }
                if !mustResync && tables != published {
                    publish()
                    published = tables
                }
            }
        }

        /// Applies the queued events (at most 256 datagrams, so that a flood of changes cannot starve
        /// publishing). Returns true when a re-dump is needed: a message asked for it, or messages were
        /// lost or garbled.
        private func drainEvents() -> Bool {
            var mustResync = false
            for _ in 0..<256 {
                let received: NetlinkSocket.Received
                do {
                    received = try events.receive(into: &buffer)
                } catch {
                    shared.errors.add(1, ordering: .relaxed)
                    return true
                }
                switch received {
                case .wouldBlock:
                    return mustResync
                case .overrun:
                    mustResync = true
                case .bytes(let count):
                    let (messages, malformed) = NetlinkMessage.split(Array(buffer[0..<count])[...])
                    if malformed {
                        shared.malformed.add(1, ordering: .relaxed)
                        mustResync = true
                    }
                    shared.events.add(UInt64(messages.count), ordering: .relaxed)
                    for message in messages where tables.apply(message) == .resync { mustResync = true }
                }
            }
            return mustResync
        }

        private func publish() {
            generation += 1
            shared.box.publish(tables.view(generation: generation))
        }

        /// Links, then IPv4 and IPv6 routes, then IPv4 and IPv6 neighbours, into fresh tables. A dump the
        /// kernel marks as interrupted (NLM_F_DUMP_INTR: the table changed meanwhile) is redone, up to
        /// three times; the events queued meanwhile repair whatever the last attempt missed.
        func dumpAll() throws(XDPError) -> NetlinkTables {
            var attempt = 0
            while true {
                attempt += 1
                var fresh = NetlinkTables(table: table)
                var interrupted = false
                let requests: [(UInt16, UInt8)] = [
                    (Netlink.getLink, Netlink.unspecified), (Netlink.getRoute, Netlink.inet),
                    (Netlink.getRoute, Netlink.inet6), (Netlink.getNeighbour, Netlink.inet),
                    (Netlink.getNeighbour, Netlink.inet6),
                ]
                for (type, family) in requests {
                    interrupted = try dump(type, family: family, into: &fresh) || interrupted
                }
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
