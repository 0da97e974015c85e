// Connections whose real server the control plane took out (`RealServerConfiguration.isUp` false:
// a failed health check without `inhibit_on_failure`) are expired as IPVS does with
// `expire_nodest_conn`, so that no client waits on a server that is gone:
// - When a configuration with down servers is applied, the table is swept in slices from
//   `advance(now:network:)` (`sweepSlice` entries per call, never the whole table in one batch).
// - A UDP connection is released at once: the client's next datagram is scheduled anew.
// - A TCP connection is marked gone (`realServerIndex == goneRealServer`) and lingers for
//   `goneLingerMilliseconds`. An ESTABLISHED client gets a RST straight away whose sequence number
//   is the last acknowledgement it sent (`clientAck`, in its own sequence space): exactly what it
//   expects unless the server's last data is still unacknowledged. Whatever either side sends
//   while the entry lingers is answered with a RST built from that segment's acknowledgement number
//   (RFC 9293 §3.10.7.1), which the receiver accepts because it is exactly its RCV.NXT (RFC 5961 §3.2).
// - The scheduler forgets the connection when it is marked, so the down server's counts drop.

import SluicePacket

extension Dataplane {
    /// `Connection.realServerIndex` of a connection whose real server is gone.
    public static let goneRealServer: UInt16 = .max
    /// How long a gone TCP connection stays to answer late segments with a RST.
    public static let goneLingerMilliseconds: UInt64 = 10_000
    /// Entries examined per `advance` call while a sweep runs (about 1 MiB of entries).
    public static let sweepSlice: Int32 = 8192

    /// Starts a sweep when some real server of the current configuration is down.
    @usableFromInline
    mutating func startNoDestinationSweep() {
        let anyDown = services.services.contains { service in
            service.configuration.realServers.contains { !$0.isUp }
        }
        if anyDown { noDestinationSweep = 0 }
    }

    /// True while a sweep for down servers is running.
    public var isSweepingDownServers: Bool { noDestinationSweep >= 0 }

    /// One slice of the sweep (from `advance(now:network:)`).
    @usableFromInline
    mutating func sweepDownServers(now: UInt64, network: borrowing NetworkView) {
        let start = noDestinationSweep
        let end = Int32(min(Int(start) + Int(Self.sweepSlice), table.capacity))
        var id = start
        while id < end {
            if table.isLive(id), isDownServer(table[id]) { expireForDownServer(id, now: now, network: network) }
            id += 1
        }
        noDestinationSweep = end >= Int32(table.capacity) ? -1 : end
    }

    /// True when the entry's real server is one the current configuration marks down.
    @inlinable @inline(__always)
    func isDownServer(_ c: Connection) -> Bool {
        let service = Int(c.serviceIndex)
        let server = Int(c.realServerIndex)
        guard service < services.services.count else { return false }
        let servers = services.services[service].configuration.realServers
        guard server < servers.count else { return false }
        let rs = servers[server]
        return !rs.isUp && rs.address == c.real && rs.port == c.realPort
    }

    /// Expires one connection of a down server (see the file comment).
    @usableFromInline
    mutating func expireForDownServer(_ id: ConnectionID, now: UInt64, network: borrowing NetworkView) {
        let c = table[id]
        counters.count(.connectionsExpiredNoDestination)
        guard c.transport == 6, !isAwaitingServer(id) else {
            release(id)
            return
        }
        services.services[Int(c.serviceIndex)].scheduler.connectionClosed(
            Int(c.realServerIndex), wasActive: c.state == .established)
        table[id].realServerIndex = Self.goneRealServer
        table[id].expire(at: now &+ Self.goneLingerMilliseconds)
        wheel.schedule(id, at: now &+ Self.goneLingerMilliseconds)
        guard c.state == .established, c.clientAck != 0 else { return }
        var egress = Egress()
        guard resolveEgress(to: c.client, from: c.routeToClient, network: network, into: &egress) == nil else { return }
        let segment = TCPSegmentBuilder.Segment(
            sourceMAC: egress.sourceMAC, destinationMAC: egress.destinationMAC, source: c.vip,
            destination: c.client, sourcePort: c.vport, destinationPort: c.clientPort,
            sequence: c.clientAck &+ c.ackDelta, acknowledgement: 0, flags: tcpRST, window: 0)
        if output.append(side: egress.side, { out in TCPSegmentBuilder.build(&out, segment) }) {
            counters.count(.generatedFrames)
            counters.count(.noDestinationResets)
        } else {
            counters.count(.generatedFramesDropped)
        }
    }

    /// A segment of a gone connection: the entry is released and the sender gets a RST in place of
    /// the segment (none for a RST, or for a segment without ACK whose RCV.NXT we cannot name).
    @inlinable
    mutating func answerGone(
        _ id: ConnectionID, frame: inout MutableSpan<UInt8>, length: inout Int, network: borrowing NetworkView
    ) -> Verdict {
        release(id)
        let flags = info.tcpFlags
        guard info.l4Protocol == 6, flags & tcpRST == 0, flags & tcpACK != 0 else {
            return .drop(.realServerGone)
        }
        guard let side = answerWithReset(frame: &frame, length: &length, network: network) else {
            return .drop(.realServerGone)
        }
        counters.count(.noDestinationResets)
        return .transmit(side)
    }

    /// Rewrites the received TCP segment in place into the RST that answers it, back to its sender:
    /// RFC 9293 §3.10.7.1's answer to a segment with ACK (seq = SEG.ACK, no ACK flag). Returns the side
    /// to send it on; nil when there is no way back or the frame has no room.
    @inlinable
    mutating func answerWithReset(
        frame: inout MutableSpan<UInt8>, length: inout Int, network: borrowing NetworkView
    ) -> Side? {
        var egress = Egress()
        let route = RouteQuery.tcp(from: info.destination, port: info.destinationPort, to: info.sourcePort)
        if resolveEgress(to: info.source, from: route, network: network, into: &egress) != nil { return nil }
        let segment = TCPSegmentBuilder.Segment(
            sourceMAC: egress.sourceMAC, destinationMAC: egress.destinationMAC, source: info.destination,
            destination: info.source, sourcePort: info.destinationPort, destinationPort: info.sourcePort,
            sequence: frame.u32(info.l4Offset + 8), acknowledgement: 0, flags: tcpRST, window: 0)
        let n = TCPSegmentBuilder.build(&frame, segment)
        guard n > 0 else { return nil }
        length = n
        return egress.side
    }
}
