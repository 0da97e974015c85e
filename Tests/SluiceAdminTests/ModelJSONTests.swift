// The JSON of the admin API's model: every type survives a round trip, and the key names and optional
// fields are the ones docs/admin-api.yaml documents (the daemon encodes, sluicectl decodes; a renamed
// property would break the two apart silently).

import Foundation
import SluiceAdmin
import Testing

@Suite struct ModelJSONTests {
    private func roundTrip<T: Codable & Equatable>(_ value: T) throws -> T {
        try JSONDecoder().decode(T.self, from: JSONEncoder().encode(value))
    }

    private func sortedJSON<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    @Test func everyTypeRoundTrips() throws {
        #expect(try roundTrip(ListingFixtures.services) == ListingFixtures.services)
        #expect(try roundTrip(ListingFixtures.connections) == ListingFixtures.connections)
        #expect(try roundTrip(ListingFixtures.localAddresses) == ListingFixtures.localAddresses)
        let page = ConnectionPage(
            total: 3, offset: 0, limit: 2, connections: Array(ListingFixtures.connections.prefix(2)))
        #expect(try roundTrip(page) == page)
        let explain = ExplainResult(
            service: "web", connection: ListingFixtures.connections[0], server: "10.30.0.12", serverPort: 8080,
            local: "10.20.0.100", localPort: 1_026)
        #expect(try roundTrip(explain) == explain)
        #expect(try roundTrip(ExplainResult(reason: "no_service")) == ExplainResult(reason: "no_service"))
        let reload = ReloadResult(applied: false, changes: [], problems: ["workers: needs a restart"])
        #expect(try roundTrip(reload) == reload)
        #expect(try roundTrip(ServerUpdate(weight: 0, state: "drain")) == ServerUpdate(weight: 0, state: "drain"))
        #expect(try roundTrip(APIError(error: "bad", field: "weight")) == APIError(error: "bad", field: "weight"))
    }

    @Test func keysAreTheDocumentedOnes() throws {
        #expect(try sortedJSON(ServerUpdate(weight: 5)) == #"{"weight":5}"#)
        #expect(try sortedJSON(ServerUpdate(state: "maint")) == #"{"state":"maint"}"#)
        #expect(
            try sortedJSON(APIError(error: "no such service", field: "name"))
                == #"{"error":"no such service","field":"name"}"#)
        #expect(
            try sortedJSON(ExplainResult(service: "web", reason: "no_real_server"))
                == #"{"reason":"no_real_server","service":"web"}"#)
        #expect(
            try sortedJSON(ListingFixtures.localAddresses[2])
                == #"{"address":"10.20.0.101","allocationFailures":17,"group":"lips","portsFree":0,"portsUsed":64511}"#)
        #expect(
            try sortedJSON(TrafficRate(connectionsPerSecond: 1, inBytesPerSecond: 2))
                == #"{"connectionsPerSecond":1,"inBytesPerSecond":2,"inPacketsPerSecond":0,"#
                + #""outBytesPerSecond":0,"outPacketsPerSecond":0}"#)
    }

    @Test func daemonAnswerDecodes() throws {
        let json = #"""
            [{"name":"web6","protocol":"tcp","vip":"fd00:10::1","port":443,"scheduler":"rr","flags":["syn_proxy"],
              "quorum":1,"liveServers":1,
              "servers":[{"address":"fd00:30::2","port":8443,"configuredWeight":10,"weight":0,"adminState":"maint",
                "health":{"state":"down","type":"http","status":"L7STS","durationMilliseconds":4,
                          "detail":"HTTP status 503","checks":12,"failures":3},
                "isSorryServer":false,"activeConnections":1,"inactiveConnections":2,
                "stats":{"connections":3,"inPackets":4,"inBytes":5,"outPackets":6,"outBytes":7},
                "rate":{"connectionsPerSecond":8,"inPacketsPerSecond":9,"outPacketsPerSecond":10,
                        "inBytesPerSecond":11,"outBytesPerSecond":12}}],
              "stats":{"connections":3,"inPackets":4,"inBytes":5,"outPackets":6,"outBytes":7},
              "rate":{"connectionsPerSecond":8,"inPacketsPerSecond":9,"outPacketsPerSecond":10,
                      "inBytesPerSecond":11,"outBytesPerSecond":12}}]
            """#
        let services = try JSONDecoder().decode([VirtualServerStatus].self, from: Data(json.utf8))
        let stats = TrafficStats(connections: 3, inPackets: 4, inBytes: 5, outPackets: 6, outBytes: 7)
        let rate = TrafficRate(
            connectionsPerSecond: 8, inPacketsPerSecond: 9, outPacketsPerSecond: 10, inBytesPerSecond: 11,
            outBytesPerSecond: 12)
        let expected = VirtualServerStatus(
            name: "web6", protocol: "tcp", vip: "fd00:10::1", port: 443, scheduler: "rr", flags: ["syn_proxy"],
            quorum: 1, liveServers: 1,
            servers: [
                RealServerStatus(
                    address: "fd00:30::2", port: 8443, configuredWeight: 10, weight: 0, adminState: "maint",
                    health: CheckState(
                        state: "down", type: "http", status: "L7STS", durationMilliseconds: 4,
                        detail: "HTTP status 503", checks: 12, failures: 3),
                    activeConnections: 1, inactiveConnections: 2, stats: stats, rate: rate)
            ],
            stats: stats, rate: rate)
        #expect(services == [expected])
    }

    @Test func missingRequiredKeyFails() {
        let json = #"{"total":1,"offset":0,"connections":[]}"#
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(ConnectionPage.self, from: Data(json.utf8))
        }
    }
}
