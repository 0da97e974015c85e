// The health table: virtual servers and real servers in the API's (file) order, one line each, no
// trailing spaces where the detail is empty.

import SluiceAdmin
import Testing

@Suite struct HealthTableTests {
    @Test func everyRealServerWithItsCheck() {
        #expect(
            IPVSListing.health(ListingFixtures.services)
                == ListingFixtures.text(
                    "Service          Prot LocalAddress:Port            Live  Quorum",
                    "  -> RemoteAddress:Port           Admin Check State  Status     Time   Checks Failures Detail",
                    "web6             TCP  [fd00:10::1]:443             1     2",
                    "  -> [fd00:30::12]:8443           ready http  up     L7OK       12ms        9        0 sorry server",
                    "  -> [fd00:30::2]:8443            ready http  up     L7OK        3ms        9        0",
                    "dns              UDP  10.0.0.1:53                  1     0",
                    "  -> 10.30.0.21:53                ready none  static UNK           -        0        0",
                    "web              TCP  10.0.0.1:80                  1     1",
                    "  -> 10.30.0.12:8080              ready tcp   up     L4OK        1ms      120        0",
                    "  -> 10.30.0.9:8080               drain tcp   down   L4CON       0ms      120        7 Connection refused"
                ))
    }

    @Test func healthColumnText() {
        let servers = ListingFixtures.web.servers + ListingFixtures.dns.servers + ListingFixtures.web6.servers
        #expect(
            servers.map(IPVSListing.healthText) == [
                "up L4OK", "down L4CON drain", "static", "up L7OK sorry", "up L7OK",
            ])
    }
}
