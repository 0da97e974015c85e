// The admin API's routes against a fake gateway: listings carry the desired state and the data
// plane's counters, runtime changes go through the control plane and survive a reload, and every bad
// request is a 4xx naming its field. The metrics text is rendered by swift-prometheus with
// node_exporter's names.

import Foundation
import Logging
import SluiceAdmin
import SluiceControl
import SluiceCore
import SluicePacket
import Testing

/// A data plane answering from fixed values.
struct FakeGateway: AdminGateway {
    var traffic: [ServerTraffic]
    var stalled = false

    func serverTraffic() async -> [ServerTraffic]? { stalled ? nil : traffic }
    func connections(_ filter: ConnectionFilter, offset: Int, limit: Int) async -> ConnectionPage? {
        guard !stalled else { return nil }
        let all = (0..<5).map { i in
            ConnectionEntry(
                protocol: "tcp", state: "ESTABLISHED", expiresInMilliseconds: 1000, service: "web",
                client: "198.51.100.\(i)", clientPort: 40000, vip: "203.0.113.10", vport: 80, local: "10.20.0.240",
                localPort: UInt16(2000 + i), server: "10.30.0.11", serverPort: 8080, worker: 0)
        }.filter { filter.client == nil || $0.client == filter.client!.description }
        let page = all.count > offset ? Array(all[offset..<min(all.count, offset + limit)]) : []
        return ConnectionPage(total: all.count, offset: offset, limit: limit, connections: page)
    }
    func localAddresses() async -> [LocalAddressUsage]? {
        [
            LocalAddressUsage(
                address: "10.20.0.240", group: "lips", portsUsed: 3, portsFree: 64508, allocationFailures: 0)
        ]
    }
    func counters() -> [(name: String, value: UInt64)] { [("forwarded_inbound", 10), ("drop_no_route", 2)] }
    func explain(
        transport: TransportProtocol, client: IPAddress, clientPort: UInt16, vip: IPAddress, vport: UInt16
    ) async -> Explanation? {
        var e = Explanation()
        e.service = "web"
        e.server = (IPAddress("10.30.0.12")!, 8080)
        e.local = (IPAddress("10.20.0.240")!, 2001)
        return e
    }
    func heartbeats() -> [UInt64] { [1] }
}

private let file = """
    interfaces: { external: eth0 }
    local_address_groups: { lips: [10.20.0.240] }
    virtual_servers:
      - name: web
        vip: 203.0.113.10
        port: 80
        protocol: tcp
        scheduler: wlc
        local_address_group: lips
        real_servers:
          - { address: 10.30.0.11, port: 8080, weight: 3 }
          - { address: 10.30.0.12, port: 8080, weight: 1 }
    """

@Suite struct AdminHandlerTests {
    let control: ControlPlane
    let handler: AdminHandler

    init() throws {
        let configuration = try ConfigurationLoader.parse(yaml: file)
        control = ControlPlane(configuration: configuration, sink: RecordingSink(), logger: Logger(label: "test"))
        let traffic = [
            ServerTraffic(
                service: "web", address: IPAddress("10.30.0.11")!, port: 8080, connections: 7, inPackets: 70,
                inBytes: 7000, outPackets: 140, outBytes: 10_485_760, active: 2, inactive: 1)
        ]
        let control = self.control
        handler = AdminHandler(control: control, gateway: FakeGateway(traffic: traffic), sampler: TrafficSampler()) {
            ReloadResult(applied: true, changes: [], problems: [])
        }
    }

    func request(_ method: String, _ uri: String, _ body: String = "") async -> AdminResponse {
        await handler.handle(AdminRequest(method: method, uri: uri, body: Array(body.utf8)))
    }

    func decode<T: Decodable>(_ type: T.Type, _ response: AdminResponse) throws -> T {
        try JSONDecoder().decode(type, from: Data(response.body))
    }

    @Test func servicesCarryStateAndCounters() async throws {
        let response = await request("GET", "/v1/services")
        #expect(response.status == 200)
        let services = try decode([VirtualServerStatus].self, response)
        #expect(services.count == 1 && services[0].name == "web" && services[0].scheduler == "wlc")
        let rs1 = services[0].servers[0]
        #expect(rs1.address == "10.30.0.11" && rs1.weight == 3 && rs1.activeConnections == 2)
        #expect(rs1.stats.outBytes == 10_485_760 && rs1.health.state == "static")
        #expect(services[0].stats.connections == 7)
        #expect(services[0].servers[1].stats == TrafficStats())
    }

    @Test func setWeightAndStateThenReloadKeepsThem() async throws {
        let changed = await request("PATCH", "/v1/services/web/servers/10.30.0.12/8080", #"{"weight": 9}"#)
        #expect(changed.status == 200)
        #expect(try decode(RealServerStatus.self, changed).weight == 9)
        let drained = await request(
            "PATCH", AdminPaths.server(service: "web", address: "10.30.0.12", port: 8080), #"{"state":"drain"}"#)
        let status = try decode(RealServerStatus.self, drained)
        #expect(status.weight == 0 && status.adminState == "drain" && status.configuredWeight == 1)
        var next = try ConfigurationLoader.parse(yaml: file)
        next.virtualServers[0].realServers[0].weight = 5
        await control.reload(to: next)
        let after = try decode([VirtualServerStatus].self, await request("GET", "/v1/services"))
        #expect(after[0].servers[0].weight == 5)
        #expect(after[0].servers[1].adminState == "drain" && after[0].servers[1].weight == 0)
        let ready = await request("PATCH", "/v1/services/web/servers/10.30.0.12/8080", #"{"state":"ready"}"#)
        #expect(try decode(RealServerStatus.self, ready).weight == 9)
    }

    @Test func badRequestsNameTheirField() async throws {
        let cases: [(String, String, String, Int, String?)] = [
            ("PATCH", "/v1/services/web/servers/10.30.0.12/8080", #"{"weight": "x"}"#, 400, "weight"),
            ("PATCH", "/v1/services/web/servers/10.30.0.12/8080", #"{"weight": 70000}"#, 400, "weight"),
            ("PATCH", "/v1/services/web/servers/10.30.0.12/8080", #"{"state": "off"}"#, 400, "state"),
            ("PATCH", "/v1/services/web/servers/10.30.0.12/8080", #"{"colour": 1}"#, 400, "colour"),
            ("PATCH", "/v1/services/web/servers/10.30.0.12/8080", "{}", 400, "weight"),
            ("PATCH", "/v1/services/web/servers/10.30.0.12/8080", "not json", 400, nil),
            ("PATCH", "/v1/services/web/servers/nonsense/8080", #"{"weight": 1}"#, 400, "address"),
            ("PATCH", "/v1/services/web/servers/10.30.0.12/0", #"{"weight": 1}"#, 400, "port"),
            ("PATCH", "/v1/services/web/servers/10.30.0.99/8080", #"{"weight": 1}"#, 404, "address"),
            ("GET", "/v1/services/nope", "", 404, "name"),
            ("GET", "/v1/connections?limit=0", "", 400, "limit"),
            ("GET", "/v1/connections?offset=-1", "", 400, "offset"),
            ("GET", "/v1/connections?client=nobody", "", 400, "client"),
            (
                "GET", "/v1/explain?protocol=sctp&client=1.2.3.4&client_port=5&vip=203.0.113.10&vport=80", "", 400,
                "protocol"
            ),
            ("GET", "/v1/explain?protocol=tcp&client=1.2.3.4&vip=203.0.113.10&vport=80", "", 400, "client_port"),
            ("GET", "/v1/connections?server=10.30.0.11&server_port=x", "", 400, "server_port"),
            ("DELETE", "/v1/services", "", 405, nil),
            ("GET", "/v2/anything", "", 404, nil),
        ]
        for (method, uri, body, status, field) in cases {
            let response = await request(method, uri, body)
            #expect(response.status == status, "\(method) \(uri) \(body): \(response.json)")
            let error = try decode(APIError.self, response)
            if status == 405 { #expect(response.allow == "GET") }
            #expect(error.field == field, "\(method) \(uri) \(body): \(response.json)")
        }
    }

    @Test func connectionsPageAndFilter() async throws {
        let page = try decode(ConnectionPage.self, await request("GET", "/v1/connections?offset=1&limit=2"))
        #expect(page.total == 5 && page.connections.map(\.localPort) == [2001, 2002])
        let one = try decode(ConnectionPage.self, await request("GET", "/v1/connections?client=198.51.100.3"))
        #expect(one.total == 1 && one.connections[0].client == "198.51.100.3")
    }

    @Test func explainAndCounters() async throws {
        let e = try decode(
            ExplainResult.self,
            await request(
                "GET", "/v1/explain?protocol=tcp&client=198.51.100.2&client_port=40000&vip=203.0.113.10&vport=80"))
        #expect(e.service == "web" && e.server == "10.30.0.12" && e.localPort == 2001 && e.connection == nil)
        let counters = try decode([String: UInt64].self, await request("GET", "/v1/counters"))
        #expect(counters["drop_no_route"] == 2)
    }

    @Test func metricsUseNodeExporterNames() async throws {
        let text = await handler.metrics()
        #expect(text.contains("# TYPE node_ipvs_connections_total counter"))
        #expect(text.contains("node_ipvs_connections_total 7"))
        #expect(
            text.contains(
                #"node_ipvs_backend_connections_active{local_address="203.0.113.10",local_port="80",remote_address="10.30.0.11",remote_port="8080",proto="TCP"} 2"#
            ))
        #expect(text.contains(#"sluice_backend_outgoing_bytes_total{"#) && text.contains("} 10485760"))
        #expect(text.contains(#"sluice_drops_total{reason="no_route"} 2"#))
        #expect(text.contains(#"sluice_laddr_ports_used{laddr="10.20.0.240",group="lips"} 3"#))
        #expect(!text.contains("198.51.100"))
    }
}
