// `sluicectl explain`'s text for a flow that has a connection, one that would be scheduled, and one
// that would be dropped.

import SluiceAdmin
import Testing

@Suite struct ExplainTextTests {
    @Test func liveConnectionAndNewFlow() {
        let result = ExplainResult(
            service: "web6", connection: ListingFixtures.connections[2], server: "fd00:30::2", serverPort: 8443,
            local: "fd00:20::100", localPort: 2_001)
        #expect(
            result.text
                == ListingFixtures.text(
                    "service:    web6",
                    "connection: TCP SYN_RECV, expires 00:59, [2001:db8::7]:50123 -> [fd00:10::1]:443, local "
                        + "[fd00:20::100]:2000 -> [fd00:30::2]:8443, worker 1",
                    "new flow:   [fd00:20::100]:2001 -> [fd00:30::2]:8443"))
    }

    @Test func droppedFlowSaysWhy() {
        #expect(
            ExplainResult(service: "web", reason: "no_real_server").text
                == ListingFixtures.text("service:    web", "connection: none", "new flow:   dropped (no_real_server)"))
        #expect(
            ExplainResult(reason: "no_service").text
                == ListingFixtures.text(
                    "service:    none (no virtual server at this address, port and protocol)", "connection: none",
                    "new flow:   dropped (no_service)"))
    }
}
