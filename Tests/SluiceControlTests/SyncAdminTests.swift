// Connection sync through the admin API and the metrics: GET /v1/sync answers 404 while sync is off
// and the board's status once published; the metrics carry per-peer liveness and adoption, the
// totals and the refusals by reason; `sluicectl sync`'s table names a dead peer's LIPs as answered here.

import Foundation
import Logging
import SluiceAdmin
import SluiceControl
import Testing

@Suite struct SyncAdminTests {
    static let status: SyncStatus = {
        var s = SyncStatus()
        s.peers = [
            SyncStatus.Peer(
                endpoint: "10.99.0.2:8848", alive: false, silenceSeconds: 4.25, adopted: true,
                localAddresses: ["10.54.2.240"])
        ]
        s.datagramsSent = 120
        s.recordsSent = 1300
        s.datagramsReceived = 90
        s.recordsReceived = 1000
        s.refused = ["tag": 3, "replay": 1]
        return s
    }()

    func handler(board: SyncBoard) throws -> AdminHandler {
        let configuration = try ConfigurationLoader.parse(yaml: template())
        let control = ControlPlane(configuration: configuration, sink: RecordingSink(), logger: Logger(label: "test"))
        return AdminHandler(
            control: control, gateway: FakeGateway(traffic: []), sampler: TrafficSampler(), syncBoard: board
        ) {
            ReloadResult(applied: true, changes: [], problems: [])
        }
    }

    @Test func theEndpointAndTheMetrics() async throws {
        let board = SyncBoard()
        let handler = try handler(board: board)
        let off = await handler.handle(AdminRequest(method: "GET", uri: "/v1/sync", body: []))
        #expect(off.status == 404)
        #expect(!(await handler.metrics()).contains("sluice_sync_"))
        await board.publish(Self.status)
        let on = await handler.handle(AdminRequest(method: "GET", uri: "/v1/sync", body: []))
        #expect(on.status == 200)
        #expect(try JSONDecoder().decode(SyncStatus.self, from: Data(on.body)) == Self.status)
        let put = await handler.handle(AdminRequest(method: "PUT", uri: "/v1/sync", body: []))
        #expect(put.status == 405)
        let text = await handler.metrics()
        #expect(text.contains(#"sluice_sync_peer_up{peer="10.99.0.2:8848"} 0"#))
        #expect(text.contains(#"sluice_sync_peer_lips_adopted{peer="10.99.0.2:8848"} 1"#))
        #expect(text.contains(#"sluice_sync_peer_silence_seconds{peer="10.99.0.2:8848"} 4.25"#))
        #expect(text.contains("sluice_sync_records_received_total 1000"))
        #expect(text.contains(#"sluice_sync_refused_total{reason="tag"} 3"#))
    }

    @Test func theListing() {
        let text = IPVSListing.sync(Self.status)
        #expect(text.contains("10.99.0.2:8848"))
        #expect(text.contains("dead"))
        #expect(text.contains("4.3s") || text.contains("4.2s"))
        #expect(text.contains("10.54.2.240 (answered here)"))
        #expect(text.contains("refused: replay 1, tag 3"))
    }
}
