// `metrics.listen`: the Prometheus endpoint, GET /metrics on a loopback (or chosen) address. A scrape
// asks the workers for their per-server counters through the same mailbox path as the admin API,
// then renders with swift-prometheus (MetricsRenderer).

import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// Serves /metrics until the graceful shutdown.
public struct MetricsService: Service {
    let host: String
    let port: Int
    let handler: AdminHandler
    let logger: Logger
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public init(host: String, port: Int, handler: AdminHandler, logger: Logger) {
        self.host = host
        self.port = port
        self.handler = handler
        self.logger = logger
    }

    public func run() async throws {
        let handler = self.handler
        let bootstrap = HTTPServer.bootstrap(group: MultiThreadedEventLoopGroup.singleton) { request in
            guard request.uri == "/metrics" || request.uri.hasPrefix("/metrics?") else {
                return HTTPAnswer(status: 404, contentType: "text/plain", body: Array("try /metrics\n".utf8))
            }
            guard request.method == "GET" || request.method == "HEAD" else {
                return HTTPAnswer(
                    status: 405, contentType: "text/plain", body: Array("GET only\n".utf8), headers: [("Allow", "GET")])
            }
            return HTTPAnswer(status: 200, contentType: Self.contentType, body: Array(await handler.metrics().utf8))
        }
        let channel = try await bootstrap.bind(host: host, port: port).get()
        logger.info("event=metrics_listening address=\(host) port=\(port)")
        try? await gracefulShutdown()
        try? await channel.close()
    }
}

extension AdminHandler {
    /// One scrape's text.
    public func metrics() async -> String {
        let services = await services()
        let usage = await gateway.localAddresses() ?? []
        let progress = await sampler.lastProgress
        let reload = await control.reloadStatus
        var inputs = MetricsRenderer.Inputs(
            services: services, counters: gateway.counters(), localAddresses: usage, lastProgress: progress,
            lastReloadSucceeded: reload.succeeded, lastReloadSuccess: reload.time, version: SluiceVersion.current)
        inputs.announcements = await board.decisions
        inputs.sync = await syncBoard.status
        return MetricsRenderer.render(inputs)
    }
}
