// dpvs's `ipvsadm -G` layout ("%-20s %-8s %-20s %-10s %-10s"), by local address group, with FREE added.

import SluiceAdmin
import Testing

@Suite struct LocalAddressTableTests {
    @Test func lipsAreListedUnderTheirGroup() {
        #expect(
            IPVSListing.localAddresses(ListingFixtures.localAddresses)
                == ListingFixtures.text(
                    "GROUP                TOTAL    SNAT_IP              CONFLICTS  CONNS      FREE",
                    "lips                 2        ",
                    "                              10.20.0.100          0          1          64510",
                    "                              10.20.0.101          17         64511      0",
                    "lips6                1        ",
                    "                              fd00:20::100         0          1          64510"))
    }
}
