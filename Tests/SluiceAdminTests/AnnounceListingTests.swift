// `sluicectl announce`'s table.

import SluiceAdmin
import Testing

@Suite struct AnnounceListingTests {
    @Test func oneLinePerVIP() {
        let text = IPVSListing.announcements([
            VIPAnnouncement(vip: "203.0.113.10", announced: true, reason: "ok"),
            VIPAnnouncement(vip: "fd00:203::10", announced: false, reason: "quorum 0/1 (web6)"),
        ])
        #expect(
            text == """
                VIP               State      Reason
                203.0.113.10      announced  ok
                fd00:203::10      withdrawn  quorum 0/1 (web6)

                """)
    }
}
