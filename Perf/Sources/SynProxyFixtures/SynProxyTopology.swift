// The world of the SYNPROXY micro benchmarks: the same addresses, MACs and routes as the namespace
// lab of Perf/netns (client 10.210.1.2 behind the external interface, VIP 10.210.9.10:80, LIP
// 10.210.2.100, real server 10.210.2.2:8080 behind the internal one, permanent neighbours, a default
// route back to the client side) with one TCP service that has `syn_proxy` on.
//
// Kept separate from FullNATFixtures on purpose: that target belongs to the FULLNAT benchmarks and
// may change with them; the few constants are repeated rather than shared.
//
// The SYNPROXY settings differ from the defaults in two ways, both for the cookie-ACK benchmark's
// sake and neither on the measured path: `retries: 0` and a 100 ms retransmission wait make a
// pending connection (RS never answers) expire at the first timer tick after 100 ms, so a manual
// clock advanced between batches removes every connection a batch created.

import FullNATFixtures
import SluiceCore
import SluicePacket

/// Fixed addresses, interfaces, the SYN-proxied service and the data plane built from them.
public enum SynProxyTopology {
    public static let externalIndex = BenchTopology.externalIndex
    public static let internalIndex = BenchTopology.internalIndex
    public static let externalMAC = BenchTopology.externalMAC
    public static let internalMAC = BenchTopology.internalMAC
    public static let clientMAC = BenchTopology.clientMAC
    public static let realServerMAC = BenchTopology.realServerMAC

    public static let client = BenchTopology.client
    public static let vip = BenchTopology.vip
    public static let local = BenchTopology.local
    public static let realServer = BenchTopology.realServer
    public static let vport: UInt16 = 80
    public static let realPort: UInt16 = 8080

    /// Connection-table capacity (and so 4096 held-segment slots: capacity / 8, capped at 4096).
    public static let connectionCapacity = 1 << 16
    /// Keys the table hash, ISNs and (derived) the cookies; fixed so that runs repeat.
    public static let secret: (UInt64, UInt64) = (0x0123_4567_89AB_CDEF, 0x0F1E_2D3C_4B5A_6978)

    /// SYNPROXY defaults (MSS 1452, wscale 7, SACK, timestamps) except: no RS SYN retransmission and
    /// a 100 ms wait, so that an unanswered connection expires 100 ms after its ACK.
    public static let synProxy = SynProxyConfiguration(retries: 0, retransmitMilliseconds: 100)

    /// One SYN-proxied TCP service, round robin, one LIP, one real server.
    public static func configuration() -> DataplaneConfiguration {
        DataplaneConfiguration(
            services: [
                VirtualServiceConfiguration(
                    name: "bench-synproxy", vip: vip, port: vport, transport: .tcp, scheduler: .rr,
                    localAddresses: [local], synProxy: true,
                    realServers: [RealServerConfiguration(address: realServer, port: realPort, weight: 1)])
            ],
            connectionCapacity: connectionCapacity, synProxy: synProxy)
    }

    /// BenchTopology's network (the same addresses, MACs and ifindexes): connected /24s on both sides
    /// and a default route back to the client side, as in the lab.
    public static func network() -> NetworkView { BenchTopology.network() }

    /// Worker 0 of 1 with the topology's interfaces and secret.
    public static func makeDataplane() -> Dataplane {
        Dataplane(
            configuration: configuration(), worker: 0, workerCount: 1, externalInterface: externalIndex,
            internalInterface: internalIndex, secret: secret)
    }

    /// A zeroed buffer of one UMEM chunk (2048 bytes, as the worker's frames).
    public static func makeBuffer() -> [UInt8] {
        [UInt8](repeating: 0, count: 2048)
    }

    /// The big-endian 32-bit word at `offset`.
    public static func be32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8
            | UInt32(bytes[offset + 3])
    }

    /// The big-endian 16-bit word at `offset`.
    public static func be16(_ bytes: [UInt8], _ offset: Int) -> UInt16 {
        UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }
}
