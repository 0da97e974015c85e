// Paths shared by the daemon and sluicectl: IPv6 addresses (colons) are percent-encoded.

import SluiceAdmin
import Testing

@Suite struct AdminPathsTests {
    @Test func serverPathsAreEncoded() {
        #expect(
            AdminPaths.server(service: "web", address: "10.30.0.12", port: 8080)
                == "/v1/services/web/servers/10.30.0.12/8080")
        #expect(
            AdminPaths.server(service: "web6", address: "fd00:30::12", port: 8080)
                == "/v1/services/web6/servers/fd00%3A30%3A%3A12/8080")
    }
}
