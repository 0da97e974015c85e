// Connection sync carries the state beyond the plain FULLNAT rewrite: a SYN-proxied connection (its
// δsp, window scales and timestamp offsets) and a PROXY v2 header not yet sent (the pending mark and
// its sequence bounds) translate on the peer byte for byte as on the gateway that opened them.

import SluiceCore
import SluicePacket
import SluiceTestKit
import Testing

@Suite struct ConnectionSyncStateTests {
    static let lipB = Topology.ip("10.20.0.250")

    /// `configuration` with sync on, and for gateway B its own LIP.
    static func synced(_ configuration: DataplaneConfiguration, peer: Bool) -> DataplaneConfiguration {
        var c = configuration
        c.syncOutboxCapacity = 64
        if peer {
            for i in c.services.indices where !c.services[i].vip.isV6 { c.services[i].localAddresses = [lipB] }
        }
        return c
    }

    @Test func aSynProxiedConnection() throws {
        var a = SynProxyBench()
        var configuration = Topology.configuration()
        for i in configuration.services.indices where configuration.services[i].transport == .tcp {
            configuration.services[i].synProxy = true
        }
        a.dp = Topology.dataplane(Self.synced(configuration, peer: false))
        var b = Topology.dataplane(Self.synced(configuration, peer: true))
        let t0: UInt64 = 100_000
        let synAck = a.dp.run(a.syn(), from: .external, now: t0, network: a.network)
        let cookie = synAck.frame.u32(synAck.info.l4Offset + 4)
        _ = a.dp.run(a.ack(cookie: cookie, tsecr: UInt32(t0)), from: .external, now: t0 + 50, network: a.network)
        let (rsSYN, _) = a.pending(0)
        a.dp.clearPendingOutput()
        let syn = a.parse(rsSYN)
        let isn = rsSYN.u32(syn.l4Offset + 4)
        let rsSynAck = a.fromServer(syn.destination, to: syn.source)
            .tcp(
                sport: 8080, dport: syn.sourcePort, seq: 777_000, ack: isn &+ 1, flags: TCPFlag.syn | TCPFlag.ack,
                window: 65535,
                options: [
                    .mss(1400), .sackPermitted, .timestamps(val: 42_000, ecr: UInt32(t0 + 50)), .nop, .windowScale(9),
                ]
            ).build()
        _ = a.dp.run(rsSynAck, from: .internal, now: t0 + 60, network: a.network)
        let events = a.dp.takeSyncEvents(now: t0 + 60)
        #expect(events.map(\.connection.state) == [.established])
        b.installSynced(events, now: t0 + 60)
        #expect(b.counters[.syncEntriesInstalled] == 1)

        // Client data (its timestamps mapped, its ACK shifted by δsp), then the server's data and a
        // window update (the window rescaled, its timestamps shifted back): the same bytes on A and B.
        let data = a.ack(
            cookie: cookie, flags: TCPFlag.ack | TCPFlag.psh, window: 500, tsval: 5020, tsecr: UInt32(t0),
            payload: Array("GET / HTTP/1.1\r\n\r\n".utf8))
        let onA = a.dp.run(data, from: .external, now: t0 + 70, network: a.network)
        let onB = b.run(data, from: .external, now: t0 + 70, network: a.network)
        #expect(onA.verdict == .transmit(.internal))
        #expect(onB.frame == onA.frame, "client data, byte for byte")
        let reply = a.fromServer(syn.destination, to: syn.source)
            .tcp(
                sport: 8080, dport: syn.sourcePort, seq: 777_001, ack: isn &+ 19, flags: TCPFlag.ack | TCPFlag.psh,
                window: 300, options: [.nop, .nop, .timestamps(val: 42_010, ecr: UInt32(t0 + 70))],
                payload: Array("HTTP/1.1 200 OK\r\n".utf8)
            ).build()
        let backA = a.dp.run(reply, from: .internal, now: t0 + 80, network: a.network)
        let backB = b.run(reply, from: .internal, now: t0 + 80, network: a.network)
        #expect(backA.verdict == .transmit(.external))
        #expect(backB.frame == backA.frame, "server data, byte for byte")
    }

    @Test func aPendingProxyHeader() throws {
        let options = ClientAddressOptions(uniqueID: true, crc32c: true)
        var a = ClientAddressBench(.proxyProtocolV2, options: options)
        var configuration = Topology.configuration(weights: [1, 0])
        for i in configuration.services.indices where configuration.services[i].transport == .tcp {
            configuration.services[i].clientAddress = .proxyProtocolV2
            configuration.services[i].clientAddressOptions = options
        }
        a.dp = Topology.dataplane(Self.synced(configuration, peer: false))
        var b = Topology.dataplane(Self.synced(configuration, peer: true))
        a.handshake()
        // The client's ACK of the SYN-ACK: ESTABLISHED, the header still to be sent.
        _ = a.dp.run(
            a.fromClient(seq: a.clientISN &+ 1, ack: a.serverISN &+ 1), from: .external, now: 1002, network: a.network)
        let events = a.dp.takeSyncEvents(now: 1002)
        #expect(events.map(\.connection.state) == [.established])
        b.installSynced(events, now: 1002)
        #expect(b.counters[.syncEntriesInstalled] == 1)
        // The first data segment: the PROXY v2 header goes in front of it, on A as on B.
        let request = a.fromClient(
            seq: a.clientISN &+ 1, ack: a.serverISN &+ 1, flags: TCPFlag.ack | TCPFlag.psh,
            payload: Array("GET / HTTP/1.0\r\n\r\n".utf8))
        let onA = a.dp.run(request, from: .external, now: 1003, network: a.network)
        let onB = b.run(request, from: .external, now: 1003, network: a.network)
        #expect(onA.verdict == .transmit(.internal))
        #expect(onA.info.payloadLength > 18, "the header was inserted")
        #expect(onB.frame == onA.frame, "header and data, byte for byte")
        // The server's acknowledgement of header and data comes back shifted the same way.
        let ack = a.fromServer(
            seq: a.serverISN &+ 1, ack: onA.seq &+ UInt32(onA.info.payloadLength), flags: TCPFlag.ack)
        let backA = a.dp.run(ack, from: .internal, now: 1004, network: a.network)
        let backB = b.run(ack, from: .internal, now: 1004, network: a.network)
        #expect(backB.verdict == backA.verdict)
        #expect(backB.frame == backA.frame)
    }
}
