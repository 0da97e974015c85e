// The addresses of the benchmark's world, the same as the namespace lab of Perf/netns so that
// a micro figure and a netns figure talk about the same flow: client 10.210.1.2 behind the external
// interface, VIP 10.210.9.10:80, LIP 10.210.2.100 and real server 10.210.2.2:8080 behind the internal one.
// Every next hop is a permanent neighbour, as in the lab. (The netns run uses a UDP service on port 9,
// because that is what Perf/lab's xsk_gen sends; the micro benchmark uses TCP, the heavier rewrite.)

import SluiceCore
import SluicePacket

/// Fixed addresses, interfaces and the configuration/network snapshot built from them.
public enum BenchTopology {
    public static let externalIndex: Int32 = 2
    public static let internalIndex: Int32 = 3
    public static let externalMAC = MACAddress(0x0200_0000_0101)
    public static let internalMAC = MACAddress(0x0200_0000_0201)
    public static let clientMAC = MACAddress(0x0200_0000_0102)
    public static let realServerMAC = MACAddress(0x0200_0000_0202)

    public static let client = IPAddress(v4: 0x0AD2_0102)  // 10.210.1.2
    public static let vip = IPAddress(v4: 0x0AD2_090A)  // 10.210.9.10
    public static let local = IPAddress(v4: 0x0AD2_0264)  // 10.210.2.100 (LIP, on no interface)
    public static let realServer = IPAddress(v4: 0x0AD2_0202)  // 10.210.2.2
    public static let clientPort: UInt16 = 40_001
    public static let vport: UInt16 = 80
    public static let realPort: UInt16 = 8080

    /// Connection-table capacity: large enough to be a real table, small enough to build in milliseconds.
    public static let connectionCapacity = 1 << 16

    /// One TCP service, round robin, one LIP, one real server.
    public static func configuration() -> DataplaneConfiguration {
        DataplaneConfiguration(
            services: [
                VirtualServiceConfiguration(
                    name: "bench", vip: vip, port: vport, transport: .tcp, scheduler: .rr, localAddresses: [local],
                    realServers: [RealServerConfiguration(address: realServer, port: realPort, weight: 1)])
            ],
            connectionCapacity: connectionCapacity)
    }

    /// Connected /24s on both sides and a default route back to the client side, as in the lab.
    public static func network() -> NetworkView {
        NetworkView(
            interfaces: [
                InterfaceInfo(index: externalIndex, mac: externalMAC, mtu: 1500),
                InterfaceInfo(index: internalIndex, mac: internalMAC, mtu: 1500),
            ],
            routes: [
                Route(
                    prefix: IPAddress(v4: 0x0AD2_0100), prefixLength: 24, interfaceIndex: externalIndex, gateway: nil),
                Route(
                    prefix: IPAddress(v4: 0x0AD2_0200), prefixLength: 24, interfaceIndex: internalIndex, gateway: nil),
                Route(prefix: IPAddress(v4: 0), prefixLength: 0, interfaceIndex: externalIndex, gateway: client),
            ],
            neighbours: [
                NeighbourEntry(
                    interfaceIndex: externalIndex, address: client, mac: clientMAC,
                    state: NeighbourEntry.State.permanent),
                NeighbourEntry(
                    interfaceIndex: internalIndex, address: realServer, mac: realServerMAC,
                    state: NeighbourEntry.State.permanent),
            ],
            generation: 1)
    }
}
