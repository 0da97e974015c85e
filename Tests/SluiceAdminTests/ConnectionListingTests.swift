// ipvsadm -Lnc's layout ("%-3s %-6s %-11s %-18s %-18s %s") with the local address column added before
// the destination, as dpvs prints it.

import SluiceAdmin
import Testing

@Suite struct ConnectionListingTests {
    @Test func listingHasTheLocalAddressColumn() {
        #expect(
            IPVSListing.connections(ListingFixtures.connections)
                == ListingFixtures.text(
                    "IPVS connection entries",
                    "pro expire state       source             virtual            local              destination",
                    "TCP 14:59  ESTABLISHED 192.0.2.7:40000    10.0.0.1:80        10.20.0.100:1025   10.30.0.12:8080",
                    "UDP 00:05  UDP         192.0.2.8:5353     10.0.0.1:53        10.20.0.101:61000  10.30.0.21:53",
                    "TCP 00:59  SYN_RECV    [2001:db8::7]:50123 [fd00:10::1]:443   [fd00:20::100]:2000 [fd00:30::2]:8443"
                ))
    }

    @Test func noConnectionsIsTheHeaderAlone() {
        #expect(
            IPVSListing.connections([])
                == ListingFixtures.text(
                    "IPVS connection entries",
                    "pro expire state       source             virtual            local              destination"))
    }

    @Test(arguments: [
        (UInt64(0), "00:00"),
        (999, "00:00"),
        (1_000, "00:01"),
        (61_500, "01:01"),
        (3_599_999, "59:59"),
        (6_000_000, "100:00"),
    ])
    func expiryIsMinutesAndWholeSeconds(milliseconds: UInt64, text: String) {
        #expect(IPVSListing.expiry(milliseconds: milliseconds) == text)
    }
}
