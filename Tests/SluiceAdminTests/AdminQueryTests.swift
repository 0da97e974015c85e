// Request targets, endpoints and error lines of the admin API's client side.

import SluiceAdmin
import Testing

@Suite struct AdminQueryTests {
    @Test func queryLeavesOutAbsentItemsAndEncodesTheRest() {
        let path = AdminPaths.query(
            AdminPaths.connections,
            [("service", "web 6"), ("server", "[fd00:30::2]:8443"), ("client", nil), ("limit", "10")])
        #expect(path == "/v1/connections?service=web%206&server=%5Bfd00%3A30%3A%3A2%5D%3A8443&limit=10")
    }

    @Test func queryWithoutItemsIsThePath() {
        #expect(AdminPaths.query(AdminPaths.connections, [("service", nil)]) == "/v1/connections")
        #expect(AdminPaths.connectionsQuery() == "/v1/connections")
    }

    @Test func connectionFilters() {
        #expect(
            AdminPaths.connectionsQuery(
                service: "web", server: "fd00:30::12", serverPort: 8080, client: "2001:db8::7", limit: 5)
                == "/v1/connections?service=web&server=fd00%3A30%3A%3A12&server_port=8080&client=2001%3Adb8%3A%3A7"
                + "&limit=5")
        #expect(AdminPaths.connectionsQuery(server: "10.30.0.12") == "/v1/connections?server=10.30.0.12")
    }

    @Test func explainQueryHasAddressesAndPortsApart() {
        let path = AdminPaths.explainQuery(
            protocol: "tcp", client: AdminEndpoint(address: "192.0.2.7", port: 40_000),
            vip: AdminEndpoint(address: "fd00:10::1", port: 443))
        #expect(path == "/v1/explain?protocol=tcp&client=192.0.2.7&client_port=40000&vip=fd00%3A10%3A%3A1&vport=443")
    }

    @Test(arguments: [
        ("10.30.0.12:8080", AdminEndpoint(address: "10.30.0.12", port: 8080)),
        ("[fd00:30::12]:8443", AdminEndpoint(address: "fd00:30::12", port: 8443)),
        ("[::ffff:10.0.0.1]:0", AdminEndpoint(address: "::ffff:10.0.0.1", port: 0)),
    ])
    func endpointsParse(text: String, endpoint: AdminEndpoint) {
        #expect(AdminEndpoint(parsing: text) == endpoint)
        #expect(endpoint.text == text)
    }

    @Test(arguments: [
        "10.30.0.12", "10.30.0.12:", "10.30.0.12:65536", "10.30.0.12:+80", "fd00::1:80", "[fd00::1]", "[10.0.0.1]:80",
        "web:80", "10.0.0.256:80", "[fd00::1::2]:80", "[fd00:1:2:3:4:5:6:7:8]:80", "",
    ])
    func notEndpoints(text: String) {
        #expect(AdminEndpoint(parsing: text) == nil)
    }

    @Test func addresses() {
        #expect(AdminEndpoint.isAddress("192.0.2.7"))
        #expect(AdminEndpoint.isAddress("2001:db8::7"))
        #expect(AdminEndpoint.isAddress("::"))
        #expect(!AdminEndpoint.isAddress("192.0.2.7:80"))
        #expect(!AdminEndpoint.isAddress("[2001:db8::7]"))
        #expect(!AdminEndpoint.isAddress("client"))
    }

    @Test func errorTextNamesTheField() {
        #expect(
            APIError(error: "no such real server", field: "endpoint").text == "no such real server (field endpoint)")
        #expect(APIError(error: "service not found").text == "service not found")
    }
}
