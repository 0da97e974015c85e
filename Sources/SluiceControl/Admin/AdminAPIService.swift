// The admin API on its unix socket (`admin.socket`). The socket is created with mode 0600, so only
// the user running Sluice (root, as a rule) can connect: the kernel refuses everyone else before a
// byte is read. A socket file left by a crashed run is replaced; one that a live process answers
// on is not (another Sluice owns it), and start-up fails with that reason.

import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// Serves the admin API until the graceful shutdown.
public struct AdminAPIService: Service {
    let path: String
    let handler: AdminHandler
    let logger: Logger

    /// The socket is taken by a live process.
    public struct SocketInUse: Error, CustomStringConvertible {
        public let path: String
        public var description: String { "admin socket \(path) is in use by a running process (another sluice?)" }
    }

    public init(path: String, handler: AdminHandler, logger: Logger) {
        self.path = path
        self.handler = handler
        self.logger = logger
    }

    /// Fails when a live process answers on `path`; removes a stale socket file. `sluice run` calls
    /// it before it attaches anything, so a taken socket is a start-up error.
    public static func claim(
        path: String, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws {
        guard FileManager.default.fileExists(atPath: path) else { return }
        if let live = try? await ClientBootstrap(group: group).connect(unixDomainSocketPath: path).get() {
            try? await live.close()
            throw SocketInUse(path: path)
        }
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Binds the socket.
    public func bind(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> any Channel {
        try await Self.claim(path: path, group: group)
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let handler = self.handler
        let bootstrap = HTTPServer.bootstrap(group: group) { request in
            let response = await handler.handle(request)
            return HTTPAnswer(
                status: response.status, body: response.body, headers: response.allow.map { [("Allow", $0)] } ?? [])
        }
        // The socket file takes its mode from the umask at bind: no moment where others may connect.
        let previous = umask(0o177)
        defer { umask(previous) }
        return try await bootstrap.bind(unixDomainSocketPath: path).get()
    }

    public func run() async throws {
        let channel = try await bind()
        logger.info("event=admin_api_listening socket=\(path) mode=0600")
        try? await gracefulShutdown()
        try? await channel.close()
        try? FileManager.default.removeItem(atPath: path)
    }
}
