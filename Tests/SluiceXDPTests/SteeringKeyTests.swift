// The map keys must match struct sluice_vip_key / sluice_lip_key byte for byte, or the BPF program would
// never match a configured service.

import SluiceCore
import SluicePacket
import Testing

@testable import SluiceXDP

@Suite struct SteeringKeyTests {
    @Test func ipv4VIPKeyLayout() {
        let key = XDPProgram.vipKey(IPAddress(v4: 0x0A09_0909), port: 80, transport: 6)
        let address = tupleBytes(key.addr)
        #expect(address == [10, 9, 9, 9] + Array(repeating: 0, count: 12))
        #expect(key.family == 4)
        #expect(key.proto == 6)
        #expect(key.port == UInt16(80).bigEndian)  // network order
        #expect(MemoryLayout.size(ofValue: key) == 20)
    }

    @Test func ipv6LIPKeyLayout() {
        let address = IPAddress(v6High: 0x2001_0DB8_0000_0000, low: 0x0000_0000_0000_0001)
        let key = XDPProgram.lipKey(address)
        let bytes = tupleBytes(key.addr)
        #expect(bytes == [0x20, 0x01, 0x0D, 0xB8] + Array(repeating: 0, count: 11) + [1])
        #expect(key.family == 6)
        #expect(MemoryLayout.size(ofValue: key) == 20)
    }

    @Test func configurationYieldsServicesAndLocalAddresses() {
        let lip = IPAddress(v4: 0x0A02_0001)
        let configuration = DataplaneConfiguration(services: [
            VirtualServiceConfiguration(
                name: "web", vip: IPAddress(v4: 0x0A09_0909), port: 80, transport: .tcp, scheduler: .rr,
                localAddresses: [lip], realServers: []),
            VirtualServiceConfiguration(
                name: "dns", vip: IPAddress(v4: 0x0A09_0909), port: 53, transport: .udp, scheduler: .rr,
                localAddresses: [lip], realServers: []),
        ])
        let steering = SteeredService.steering(for: configuration)
        #expect(
            steering.services == [
                SteeredService(address: IPAddress(v4: 0x0A09_0909), port: 80, transport: 6),
                SteeredService(address: IPAddress(v4: 0x0A09_0909), port: 53, transport: 17),
            ])
        #expect(steering.localAddresses == [lip])
    }

    @Test func errorsReadAsOneLineWithAHint() {
        let error = XDPError(operation: "attach XDP program", subject: "eth1", code: 1)
        #expect(error.description.hasPrefix("attach XDP program on eth1 failed: Operation not permitted"))
        #expect(error.description.contains("CAP_NET_ADMIN"))
        #expect(!error.description.contains("\n"))
        let memlock = XDPError(operation: "register UMEM", code: 105)
        #expect(memlock.description.contains("RLIMIT_MEMLOCK"))
    }
}

/// The bytes of an imported C `__u8[16]` (a tuple in Swift), in order.
private func tupleBytes(_ tuple: Any) -> [UInt8] {
    Mirror(reflecting: tuple).children.compactMap { $0.value as? UInt8 }
}
