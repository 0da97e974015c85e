// Paths shared by the daemon and sluicectl: endpoints with IPv6 brackets and colons are encoded.

import SluiceAdmin
import Testing

@Suite struct AdminPathsTests {
    @Test func serverPathsAreEncoded() {
        #expect(
            AdminPaths.server(service: "web", endpoint: "10.30.0.12:8080")
                == "/v1/services/web/servers/10.30.0.12%3A8080")
        #expect(
            AdminPaths.server(service: "web6", endpoint: "[fd00:30::12]:8080")
                == "/v1/services/web6/servers/%5Bfd00%3A30%3A%3A12%5D%3A8080")
    }
}
