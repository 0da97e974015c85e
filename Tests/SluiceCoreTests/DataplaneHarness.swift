// A small fixed topology for data-plane tests, built from plain values:
//
//   client 198.51.100.2 / 2001:db8:c::2 ── ext (ifindex 1) [Sluice] int (ifindex 2) ── router 10.20.0.1 /
//   2001:db8:20::1 ── real servers 10.30.0.11-13 / 2001:db8:30::11-12
//
// VIP 203.0.113.10 (tcp 80, udp 53) and 2001:db8:f::10 (tcp 80); LIPs 10.20.0.240-241, 2001:db8:20::240.

import SluiceCore
import SluicePacket
import SluiceTestKit

enum Topology {
    static let extMAC = MACAddress(0x0200_0000_0101)
    static let intMAC = MACAddress(0x0200_0000_0201)
    static let clientMAC = MACAddress(0x0200_0000_00C0)
    static let routerMAC = MACAddress(0x0200_0000_00A0)

    static let client = ip("198.51.100.2")
    static let client6 = ip("2001:db8:c::2")
    static let vip = ip("203.0.113.10")
    static let vip6 = ip("2001:db8:f::10")
    static let lips = [ip("10.20.0.240"), ip("10.20.0.241")]
    static let lip6 = ip("2001:db8:20::240")
    static let rs1 = ip("10.30.0.11")
    static let rs2 = ip("10.30.0.12")
    static let rs6 = ip("2001:db8:30::11")
    static let router = ip("10.20.0.1")
    static let router6 = ip("2001:db8:20::1")

    static func ip(_ s: String) -> IPAddress { IPAddress(s)! }

    static func network(rsMTU: Int = 0, resolvedRouter: Bool = true) -> NetworkView {
        let reachable = NeighbourEntry.State.reachable
        var neighbours = [
            NeighbourEntry(interfaceIndex: 1, address: client, mac: clientMAC, state: reachable),
            NeighbourEntry(interfaceIndex: 1, address: client6, mac: clientMAC, state: reachable),
        ]
        if resolvedRouter {
            neighbours.append(NeighbourEntry(interfaceIndex: 2, address: router, mac: routerMAC, state: reachable))
            neighbours.append(NeighbourEntry(interfaceIndex: 2, address: router6, mac: routerMAC, state: reachable))
        }
        return NetworkView(
            interfaces: [
                InterfaceInfo(index: 1, mac: extMAC, mtu: 1500), InterfaceInfo(index: 2, mac: intMAC, mtu: 1500),
            ],
            routes: [
                Route(prefix: ip("198.51.100.0"), prefixLength: 24, interfaceIndex: 1, gateway: nil),
                Route(prefix: ip("2001:db8:c::"), prefixLength: 64, interfaceIndex: 1, gateway: nil),
                Route(prefix: ip("10.20.0.0"), prefixLength: 24, interfaceIndex: 2, gateway: nil),
                Route(prefix: ip("2001:db8:20::"), prefixLength: 64, interfaceIndex: 2, gateway: nil),
                Route(prefix: ip("10.30.0.0"), prefixLength: 24, interfaceIndex: 2, gateway: router, mtu: rsMTU),
                Route(prefix: ip("2001:db8:30::"), prefixLength: 64, interfaceIndex: 2, gateway: router6, mtu: rsMTU),
            ],
            neighbours: neighbours, generation: 1)
    }

    static func configuration(
        weights: [UInt32] = [100, 50], scheduler: SchedulerKind = .wrr, portRange: ClosedRange<UInt16> = 1025...65535,
        lips: [IPAddress] = lips, establishTimeout: UInt32? = nil
    ) -> DataplaneConfiguration {
        let servers = zip([rs1, rs2, ip("10.30.0.13")], weights).map {
            RealServerConfiguration(address: $0.0, port: 8080, weight: $0.1)
        }
        return DataplaneConfiguration(
            services: [
                VirtualServiceConfiguration(
                    name: "web", vip: vip, port: 80, transport: .tcp, scheduler: scheduler, localAddresses: lips,
                    establishTimeout: establishTimeout, realServers: servers),
                VirtualServiceConfiguration(
                    name: "dns", vip: vip, port: 53, transport: .udp, scheduler: .rr, localAddresses: lips,
                    realServers: [RealServerConfiguration(address: rs1, port: 5353, weight: 1)]),
                VirtualServiceConfiguration(
                    name: "web6", vip: vip6, port: 80, transport: .tcp, scheduler: .rr, localAddresses: [lip6],
                    realServers: [RealServerConfiguration(address: rs6, port: 8080, weight: 1)]),
            ],
            localPortRange: portRange, connectionCapacity: 4096)
    }

    static func dataplane(_ configuration: DataplaneConfiguration = configuration(), worker: Int = 0, workers: Int = 1)
        -> Dataplane
    {
        Dataplane(
            configuration: configuration, worker: worker, workerCount: workers, externalInterface: 1,
            internalInterface: 2, secret: (0x0123_4567_89AB_CDEF, 0xFEDC_BA98_7654_3210))
    }
}

/// The result of running one frame through a data plane.
struct Processed {
    var verdict: Verdict
    var frame: [UInt8]
    var info: PacketInfo
}

extension Dataplane {
    /// Runs `input` through the data plane in a 4 KiB buffer and returns the verdict and output frame.
    mutating func run(
        _ input: [UInt8], from side: Side, now: UInt64, network: NetworkView, handedOff: Bool = false
    ) -> Processed {
        var buffer = input + Array(repeating: 0, count: 4096 - input.count)
        var length = input.count
        var span = buffer.mutableSpan
        let verdict = process(
            frame: &span, length: &length, from: side, now: now, network: network, handedOff: handedOff)
        let out = Array(buffer.prefix(length))
        var info = PacketInfo()
        if case .transmit = verdict { _ = PacketParser.parse(out.span, length: out.count, into: &info) }
        return Processed(verdict: verdict, frame: out, info: info)
    }
}

extension Array where Element == UInt8 {
    func u16(_ o: Int) -> UInt16 { UInt16(self[o]) << 8 | UInt16(self[o + 1]) }
    func u32(_ o: Int) -> UInt32 { UInt32(u16(o)) << 16 | UInt32(u16(o + 2)) }
    func mac(_ o: Int) -> UInt64 { (0..<6).reduce(UInt64(0)) { $0 << 8 | UInt64(self[o + $1]) } }
}
