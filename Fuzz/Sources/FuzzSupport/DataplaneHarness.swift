// The data plane under fuzzing: one VIP with a service in every mode, an IPv6 VIP, two interfaces
// with resolved neighbours, and the input format that drives it. An input is a sequence of records
//
//   [control] [length, 2 bytes] [frame]
//
// control bit 0: the side (0 external, 1 internal); bits 1-4: milliseconds to move the clock by, in
// steps of 250 ms; bit 5: run the timer wheel first. A frame longer than 2048 bytes is cut; it is
// processed in a 4096-byte buffer as a UMEM chunk would hold it, so rewrites may grow it. State (the
// connection table, SYN-proxy queues, PROXY resends, templates, fragment table and hold) lives across the
// frames of one input.

import SluiceCore
import SluicePacket
import SluiceTestKit

/// One data plane and its clock.
public struct DataplaneHarness: ~Copyable {
    public static let client = IPAddress("198.51.100.2")!
    public static let client6 = IPAddress("2001:db8:c::2")!
    public static let vip = IPAddress("203.0.113.10")!
    public static let vip6 = IPAddress("2001:db8:f::10")!
    public static let lips = [IPAddress("10.20.0.240")!, IPAddress("10.20.0.241")!]
    public static let lip6 = IPAddress("2001:db8:20::240")!
    public static let servers = [IPAddress("10.30.0.11")!, IPAddress("10.30.0.12")!]
    public static let server6 = IPAddress("2001:db8:30::11")!
    public static let router = IPAddress("10.20.0.1")!
    public static let router6 = IPAddress("2001:db8:20::1")!
    public static let extMAC = MACAddress(0x0200_0000_0101)
    public static let intMAC = MACAddress(0x0200_0000_0201)
    public static let clientMAC = MACAddress(0x0200_0000_00C0)
    public static let routerMAC = MACAddress(0x0200_0000_00A0)
    /// The VIP's services by port: web (wlc), SYN proxy, TOA, PROXY v2, PROXY v1 sent on connect,
    /// persistence, Maglev; DNS over UDP on 53.
    public static let ports: [String: UInt16] = [
        "web": 80, "synproxy": 81, "toa": 82, "pp2": 83, "pp1": 84, "persist": 85, "maglev": 86, "dns": 53,
    ]
    /// Largest frame a record carries, and the buffer it is processed in.
    public static let maximumFrame = 2048
    public static let bufferSize = 4096
    static let millisecondsPerStep: UInt64 = 250
    /// The clock moves this far after the last frame, so that timers fire (SYN retransmissions, expiry).
    static let drainMilliseconds: UInt64 = 5_000

    public static func configuration() -> DataplaneConfiguration {
        let rs = servers.map { RealServerConfiguration(address: $0, port: 8080, weight: 1) }
        func tcp(_ name: String, scheduler: SchedulerKind = .wlc) -> VirtualServiceConfiguration {
            VirtualServiceConfiguration(
                name: name, vip: vip, port: ports[name]!, transport: .tcp, scheduler: scheduler, localAddresses: lips,
                realServers: rs)
        }
        var synproxy = tcp("synproxy")
        synproxy.synProxy = true
        var toa = tcp("toa")
        toa.clientAddress = .toa
        var pp2 = tcp("pp2")
        pp2.clientAddress = .proxyProtocolV2
        pp2.clientAddressOptions = ClientAddressOptions(uniqueID: true, crc32c: true, passthrough: true)
        pp2.synProxy = true
        var pp1 = tcp("pp1")
        pp1.clientAddress = .proxyProtocolV1
        pp1.clientAddressOptions = ClientAddressOptions(sendOnConnect: true)
        var persist = tcp("persist", scheduler: .rr)
        persist.persistenceTimeout = 30
        persist.persistenceNetmask = 24
        var maglev = tcp("maglev", scheduler: .mh)
        maglev.mhPort = true
        var toa6 = VirtualServiceConfiguration(
            name: "web6", vip: vip6, port: 80, transport: .tcp, scheduler: .rr, localAddresses: [lip6],
            realServers: [RealServerConfiguration(address: server6, port: 8080, weight: 1)])
        toa6.clientAddress = .toa
        let dns = VirtualServiceConfiguration(
            name: "dns", vip: vip, port: 53, transport: .udp, scheduler: .rr, localAddresses: lips, realServers: rs)
        return DataplaneConfiguration(
            services: [tcp("web"), synproxy, toa, pp2, pp1, persist, maglev, toa6, dns], localPortRange: 1025...2048,
            connectionCapacity: 512, maglevTableSize: 251)
    }

    public static func network() -> NetworkView {
        let reachable = NeighbourEntry.State.reachable
        return NetworkView(
            interfaces: [
                InterfaceInfo(index: 1, mac: extMAC, mtu: 1500), InterfaceInfo(index: 2, mac: intMAC, mtu: 1500),
            ],
            routes: [
                Route(prefix: IPAddress("198.51.100.0")!, prefixLength: 24, interfaceIndex: 1, gateway: nil),
                Route(prefix: IPAddress("2001:db8:c::")!, prefixLength: 64, interfaceIndex: 1, gateway: nil),
                Route(prefix: IPAddress("10.20.0.0")!, prefixLength: 24, interfaceIndex: 2, gateway: nil),
                Route(prefix: IPAddress("2001:db8:20::")!, prefixLength: 64, interfaceIndex: 2, gateway: nil),
                Route(prefix: IPAddress("10.30.0.0")!, prefixLength: 24, interfaceIndex: 2, gateway: router, mtu: 1400),
                Route(prefix: IPAddress("2001:db8:30::")!, prefixLength: 64, interfaceIndex: 2, gateway: router6),
            ],
            neighbours: [
                NeighbourEntry(interfaceIndex: 1, address: client, mac: clientMAC, state: reachable),
                NeighbourEntry(interfaceIndex: 1, address: client6, mac: clientMAC, state: reachable),
                NeighbourEntry(interfaceIndex: 2, address: router, mac: routerMAC, state: reachable),
                NeighbourEntry(interfaceIndex: 2, address: router6, mac: routerMAC, state: reachable),
            ], generation: 1)
    }

    public var dataplane: Dataplane
    public let network: NetworkView
    public var now: UInt64 = 1_000
    var buffer: [UInt8]

    /// One template table for every input (making its 2 MiB is most of a data plane's set-up), emptied
    /// after an input that used it, so each input starts from the same state.
    static let templates = PersistenceTemplates(hashKey: (3, 4))
    /// Likewise the fragment table, emptied after an input that recorded a datagram in it.
    static let fragments = FragmentTable(hashKey: (5, 6))

    public init() {
        dataplane = Dataplane(
            configuration: Self.configuration(), worker: 0, workerCount: 1, externalInterface: 1, internalInterface: 2,
            secret: (0x0123_4567_89AB_CDEF, 0xFEDC_BA98_7654_3210), templates: Self.templates,
            fragments: Self.fragments)
        network = Self.network()
        buffer = [UInt8](repeating: 0, count: Self.bufferSize)
    }

    /// Processes one frame; the frame it transmits, or else the first frame it generated, if any.
    @discardableResult
    public mutating func run(_ frame: ArraySlice<UInt8>, side: Side) -> [UInt8]? {
        let count = min(frame.count, Self.maximumFrame)
        // The buffer leaves `self` while the data plane (also in `self`) rewrites it.
        var local: [UInt8] = []
        swap(&local, &buffer)
        defer { swap(&local, &buffer) }
        for (i, byte) in frame.prefix(count).enumerated() { local[i] = byte }
        for i in count..<Self.bufferSize { local[i] = 0 }
        var length = count
        var span = local.mutableSpan
        let verdict = dataplane.process(frame: &span, length: &length, from: side, now: now, network: network)
        // Frames the data plane made itself (SYNs to real servers, RSTs, ICMP errors), taken as a worker
        // takes them after each batch.
        var generated: [UInt8]?
        for i in 0..<dataplane.pendingOutputCount {
            let frame = dataplane.withPendingOutput(i) { bytes, _ in (0..<bytes.count).map { bytes[$0] } }
            if generated == nil { generated = frame }
        }
        dataplane.clearPendingOutput()
        guard case .transmit = verdict else { return generated }
        precondition(length >= 0 && length <= Self.bufferSize, "a transmitted frame must fit its buffer")
        return Array(local.prefix(length))
    }

    /// Runs a whole fuzz input.
    public mutating func run(input: [UInt8]) {
        var reader = FuzzInput(input)
        while !reader.isAtEnd {
            let control = reader.byte()
            let length = Int(reader.u16())
            let frame = reader.take(length)
            now &+= UInt64(control >> 1 & 0x0F) * Self.millisecondsPerStep
            if control & 0x20 != 0 { dataplane.advance(now: now) }
            run(frame, side: control & 1 == 0 ? .external : .internal)
        }
        dataplane.advance(now: now &+ Self.drainMilliseconds)
        if dataplane.counters[.persistenceTemplateCreated] > 0 { Self.templates.removeAll() }
        if dataplane.counters[.firstFragmentsForwarded] > 0 { Self.fragments.removeAll() }
    }

    /// One record of the input format.
    public static func record(_ frame: [UInt8], side: Side, steps: UInt8 = 1, advance: Bool = false) -> [UInt8] {
        let control = (side == .internal ? 1 : 0) | (steps & 0x0F) << 1 | (advance ? 0x20 : 0)
        return [control, UInt8(frame.count >> 8), UInt8(frame.count & 0xFF)] + frame
    }
}
