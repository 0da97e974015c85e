// The service listings against text laid out with ipvsadm 1.31's printf formats (print_title,
// print_service_entry, print_largenum), trailing padding included, and in ipvsadm's order.

import SluiceAdmin
import Testing

@Suite struct IPVSListingTests {
    @Test func plainWithHealth() {
        let text = IPVSListing.services(ListingFixtures.services, health: true)
        #expect(
            text
                == ListingFixtures.text(
                    "Sluice Virtual Server (services=3)",
                    "Prot LocalAddress:Port Scheduler Flags",
                    "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn  Health",
                    "TCP  10.0.0.1:80 wrr synproxy toa",
                    "  -> 10.30.0.9:8080               FullNat 0      0          5          down L4CON drain",
                    "  -> 10.30.0.12:8080              FullNat 100    7          2          up L4OK",
                    "UDP  10.0.0.1:53 wlc",
                    "  -> 10.30.0.21:53                FullNat 1      0          3          static",
                    "TCP  [fd00:10::1]:443 rr ppv2",
                    "  -> [fd00:30::2]:8443            FullNat 10     1          0          up L7OK",
                    "  -> [fd00:30::12]:8443           FullNat 10     0          0          up L7OK sorry"))
    }

    @Test func plainIsIpvsadmLn() {
        let text = IPVSListing.services(ListingFixtures.services)
        #expect(
            text
                == ListingFixtures.text(
                    "Sluice Virtual Server (services=3)",
                    "Prot LocalAddress:Port Scheduler Flags",
                    "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn",
                    "TCP  10.0.0.1:80 wrr synproxy toa",
                    "  -> 10.30.0.9:8080               FullNat 0      0          5         ",
                    "  -> 10.30.0.12:8080              FullNat 100    7          2         ",
                    "UDP  10.0.0.1:53 wlc",
                    "  -> 10.30.0.21:53                FullNat 1      0          3         ",
                    "TCP  [fd00:10::1]:443 rr ppv2",
                    "  -> [fd00:30::2]:8443            FullNat 10     1          0         ",
                    "  -> [fd00:30::12]:8443           FullNat 10     0          0         "))
    }

    @Test func persistenceAsIpvsadmPrintsIt() {
        func line(_ service: VirtualServerStatus) -> String {
            String(IPVSListing.services([service]).split(separator: "\n")[3])
        }
        var v4 = ListingFixtures.services.first { $0.vip == "10.0.0.1" && $0.protocol == "tcp" }!
        v4.persistenceTimeout = 300
        v4.persistenceNetmask = 32
        #expect(line(v4) == "TCP  10.0.0.1:80 wrr persistent 300 synproxy toa")
        v4.persistenceNetmask = 24
        #expect(
            line(v4)
                == "TCP  10.0.0.1:80 wrr persistent 300 mask 255.255.255.0 synproxy toa")
        var v6 = ListingFixtures.services.first { $0.vip == "fd00:10::1" }!
        v6.persistenceTimeout = 60
        v6.persistenceNetmask = 64
        #expect(line(v6) == "TCP  [fd00:10::1]:443 rr persistent 60 mask 64 ppv2")
        v6.flags = ["mh_fallback", "mh_port"]
        v6.scheduler = "mh"
        v6.persistenceTimeout = nil
        #expect(line(v6) == "TCP  [fd00:10::1]:443 mh mh-fallback mh-port")
    }

    @Test func statsScaled() {
        let text = IPVSListing.services(ListingFixtures.services, layout: .stats, health: true)
        // The health flag is ignored: only the plain layout has a Health column.
        #expect(
            text
                == ListingFixtures.text(
                    "Sluice Virtual Server (services=3)",
                    "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes",
                    "  -> RemoteAddress:Port",
                    "TCP  10.0.0.1:80                      1239  100000K  100000K  123461K   98765M",
                    "  -> 10.30.0.9:8080                      5       50       40     5000     4000",
                    "  -> 10.30.0.12:8080                  1234 99999999  100000K  123456K   98765M",
                    "UDP  10.0.0.1:53                      123T     987G        318446744T        4",
                    "  -> 10.30.0.21:53                    123T     987G        318446744T        4",
                    "TCP  [fd00:10::1]:443                    1       10        8     1000     9000",
                    "  -> [fd00:30::2]:8443                   1       10        8     1000     9000",
                    "  -> [fd00:30::12]:8443                  0        0        0        0        0"))
    }

    @Test func statsExact() {
        let text = IPVSListing.services(ListingFixtures.services, layout: .stats, exact: true)
        #expect(
            text
                == ListingFixtures.text(
                    "Sluice Virtual Server (services=3)",
                    "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes",
                    "  -> RemoteAddress:Port",
                    "TCP  10.0.0.1:80                      1239 100000049 100000040 123461789 98765436101",
                    "  -> 10.30.0.9:8080                      5       50       40     5000     4000",
                    "  -> 10.30.0.12:8080                  1234 99999999 100000000 123456789 98765432101",
                    "UDP  10.0.0.1:53                  123456789012345 987654321098        3 18446744073709551615        4",
                    "  -> 10.30.0.21:53                123456789012345 987654321098        3 18446744073709551615        4",
                    "TCP  [fd00:10::1]:443                    1       10        8     1000     9000",
                    "  -> [fd00:30::2]:8443                   1       10        8     1000     9000",
                    "  -> [fd00:30::12]:8443                  0        0        0        0        0"))
    }

    @Test func rateScaled() {
        let text = IPVSListing.services(ListingFixtures.services, layout: .rate)
        #expect(
            text
                == ListingFixtures.text(
                    "Sluice Virtual Server (services=3)",
                    "Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS",
                    "  -> RemoteAddress:Port",
                    "TCP  10.0.0.1:80                        12      345      300  150000K     2000",
                    "  -> 10.30.0.9:8080                      0        0        0        0        0",
                    "  -> 10.30.0.12:8080                    12      345      300  150000K     2000",
                    "UDP  10.0.0.1:53                         0        0        0        0        0",
                    "  -> 10.30.0.21:53                       0        0        0        0        0",
                    "TCP  [fd00:10::1]:443                    0        0        0    1000M        0",
                    "  -> [fd00:30::2]:8443                   0        0        0    1000M        0",
                    "  -> [fd00:30::12]:8443                  0        0        0        0        0"))
    }

    @Test func rateExact() {
        let text = IPVSListing.services(ListingFixtures.services, layout: .rate, exact: true)
        #expect(
            text
                == ListingFixtures.text(
                    "Sluice Virtual Server (services=3)",
                    "Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS",
                    "  -> RemoteAddress:Port",
                    "TCP  10.0.0.1:80                        12      345      300 150000000     2000",
                    "  -> 10.30.0.9:8080                      0        0        0        0        0",
                    "  -> 10.30.0.12:8080                    12      345      300 150000000     2000",
                    "UDP  10.0.0.1:53                         0        0        0        0        0",
                    "  -> 10.30.0.21:53                       0        0        0        0        0",
                    "TCP  [fd00:10::1]:443                    0        0        0 1000000000        0",
                    "  -> [fd00:30::2]:8443                   0        0        0 1000000000        0",
                    "  -> [fd00:30::12]:8443                  0        0        0        0        0"))
    }

    @Test func realServerRatesOfPacketsAreNeverScaled() {
        // ipvsadm prints a real server's CPS, InPPS and OutPPS with %8llu; its virtual server's with
        // print_largenum.
        var service = ListingFixtures.dns
        service.rate = TrafficRate(connectionsPerSecond: 123_456_789)
        service.servers[0].rate = TrafficRate(connectionsPerSecond: 123_456_789)
        #expect(
            IPVSListing.services([service], layout: .rate)
                == ListingFixtures.text(
                    "Sluice Virtual Server (services=1)",
                    "Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS",
                    "  -> RemoteAddress:Port",
                    "UDP  10.0.0.1:53                   123456K        0        0        0        0",
                    "  -> 10.30.0.21:53                123456789        0        0        0        0"))
    }

    @Test func noServicesIsTheHeaderAlone() {
        #expect(
            IPVSListing.services([])
                == ListingFixtures.text(
                    "Sluice Virtual Server (services=0)",
                    "Prot LocalAddress:Port Scheduler Flags",
                    "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn"))
    }

    @Test(arguments: [
        (UInt64(0), "        0"),
        (99_999_999, " 99999999"),
        (100_000_000, "  100000K"),
        (999_999_999, "  999999K"),
        (1_000_000_000, "    1000M"),
        (99_999_999_999, "   99999M"),
        (100_000_000_000, "     100G"),
        (99_999_999_999_999, "   99999G"),
        (100_000_000_000_000, "     100T"),
    ])
    func largeNumbersScale(value: UInt64, column: String) {
        #expect(IPVSListing.largeNumber(value, exact: false) == column)
    }

    @Test(arguments: [
        (UInt64(7), "        7"),
        (12_345_678, " 12345678"),
        (123_456_789, " 123456789"),
        (UInt64.max, " 18446744073709551615"),
    ])
    func exactNumbersWiden(value: UInt64, column: String) {
        #expect(IPVSListing.largeNumber(value, exact: true) == column)
    }

    @Test func endpointsBracketIPv6() {
        #expect(IPVSListing.endpoint("10.0.0.1", 80) == "10.0.0.1:80")
        #expect(IPVSListing.endpoint("fd00::1", 8080) == "[fd00::1]:8080")
    }
}
