// ipvsadm's order of virtual servers (family, protocol, address, port) and real servers (address,
// port), with addresses compared as numbers, not as text.

import SluiceAdmin
import Testing

@Suite struct EndpointOrderTests {
    private func service(_ proto: String, _ vip: String, _ port: UInt16) -> VirtualServerStatus {
        VirtualServerStatus(
            name: "\(proto) \(vip) \(port)", protocol: proto, vip: vip, port: port, scheduler: "rr", flags: [],
            quorum: 0, liveServers: 0, servers: [])
    }

    @Test func servicesSortLikeLibipvs() {
        let given = [
            service("tcp", "2001:db8::10", 80), service("udp", "10.0.0.1", 53), service("tcp", "10.0.0.10", 80),
            service("tcp", "2001:db8::9", 80), service("tcp", "10.0.0.9", 443), service("tcp", "10.0.0.9", 80),
            service("tcp", "::ffff:10.0.0.1", 80),
        ]
        let listed = IPVSListing.services(given).split(separator: "\n").dropFirst(3).map(String.init)
        #expect(
            listed == [
                "TCP  10.0.0.9:80 rr", "TCP  10.0.0.9:443 rr", "TCP  10.0.0.10:80 rr", "UDP  10.0.0.1:53 rr",
                "TCP  [::ffff:10.0.0.1]:80 rr", "TCP  [2001:db8::9]:80 rr", "TCP  [2001:db8::10]:80 rr",
            ])
    }

    @Test func realServersSortByAddressThenPort() {
        let check = CheckState(state: "static", type: "none", status: "UNK")
        let addresses: [(String, UInt16)] = [
            ("10.30.0.100", 80), ("10.30.0.20", 8080), ("10.30.0.20", 80), ("9.255.255.255", 80),
        ]
        var web = service("tcp", "10.0.0.1", 80)
        web.servers = addresses.map {
            RealServerStatus(
                address: $0.0, port: $0.1, configuredWeight: 1, weight: 1, adminState: "ready", health: check)
        }
        let listed = IPVSListing.services([web]).split(separator: "\n").dropFirst(4).map {
            String($0.split(separator: " ")[1])
        }
        #expect(listed == ["9.255.255.255:80", "10.30.0.20:80", "10.30.0.20:8080", "10.30.0.100:80"])
    }
}
