// The real probes, on the kernel's stack (the XDP program passes everything that is not VIP or LIP
// traffic, so checks leave and return like any host traffic and reach real servers the way the
// routing table says, cross-VLAN or not):
// - tcp: a connect with the check's timeout (SwiftNIO). Refused/unreachable is L4CON, no answer L4TOUT.
// - http: the same connect, then one GET with `Connection: close`; NIO's HTTP/1 decoder reads the
//   response head (no HTTP parsing here). Status in `expect_status` is L7OK, else L7STS; no head in
//   time L7TOUT; bytes that are not HTTP L7RSP.
// - exec: the command with the server in its environment; exit 0 is PROCOK, anything else PROCERR,
//   killed at the timeout PROCTOUT.
// A `source` address binds the socket first (port chosen by the kernel); a bind failure is SOCKERR.

import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// Health checks over real sockets and processes.
public struct SystemProbe: HealthProbe {
    let group: any EventLoopGroup

    public init(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.group = group
    }

    public func check(_ target: CheckTarget) async -> CheckResult {
        let started = ContinuousClock.now
        var result: CheckResult
        switch target.check.kind {
        case .none: result = CheckResult(status: .l4OK, durationMilliseconds: 0)
        case .tcp: result = await tcp(target)
        case .http: result = await http(target)
        case .exec: result = await exec(target)
        }
        let elapsed = ContinuousClock.now - started
        result.durationMilliseconds = Int(
            elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
        return result
    }

    private func bootstrap(_ target: CheckTarget) throws -> ClientBootstrap {
        var bootstrap = ClientBootstrap(group: group)
            .connectTimeout(.milliseconds(Int64(target.check.timeoutMilliseconds)))
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
        if let source = target.check.source {
            bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: source.description, port: 0))
        }
        return bootstrap
    }

    private func connectFailure(_ error: any Error) -> CheckResult {
        if case ChannelError.connectTimeout = error {
            return CheckResult(status: .l4Timeout, durationMilliseconds: 0, detail: "connect timeout")
        }
        var code: Int32?
        if let io = error as? IOError { code = io.errnoCode }
        if let multiple = error as? NIOConnectionError,
            let io = multiple.connectionErrors.first?.error as? IOError
        {
            code = io.errnoCode
        }
        if let code, code == EADDRNOTAVAIL || code == EINVAL || code == EADDRINUSE {
            return CheckResult(status: .socketError, durationMilliseconds: 0, detail: Self.describe(code))
        }
        return CheckResult(
            status: .l4Connection, durationMilliseconds: 0, detail: code.map(Self.describe) ?? "\(error)")
    }

    /// A short name for the errors a connect meets, for the log line's `detail`.
    static func describe(_ code: Int32) -> String {
        switch code {
        case ECONNREFUSED: return "connection refused"
        case ECONNRESET: return "connection reset"
        case EHOSTUNREACH: return "host unreachable"
        case ENETUNREACH: return "network unreachable"
        case ETIMEDOUT: return "timed out"
        case EADDRNOTAVAIL: return "source address not available"
        case EADDRINUSE: return "source address in use"
        default: return "errno \(code)"
        }
    }

    func tcp(_ target: CheckTarget) async -> CheckResult {
        do {
            let address = try SocketAddress(ipAddress: target.address.description, port: Int(target.port))
            let channel = try await bootstrap(target).connect(to: address).get()
            try? await channel.close()
            return CheckResult(status: .l4OK, durationMilliseconds: 0)
        } catch let error as SocketAddressError {
            return CheckResult(status: .socketError, durationMilliseconds: 0, detail: "\(error)")
        } catch {
            return connectFailure(error)
        }
    }

    func http(_ target: CheckTarget) async -> CheckResult {
        let channel: any Channel
        let timeout = TimeAmount.milliseconds(Int64(target.check.timeoutMilliseconds))
        let deadline = NIODeadline.now() + timeout
        do {
            let address = try SocketAddress(ipAddress: target.address.description, port: Int(target.port))
            channel = try await bootstrap(target).connect(to: address).get()
        } catch let error as SocketAddressError {
            return CheckResult(status: .socketError, durationMilliseconds: 0, detail: "\(error)")
        } catch {
            return connectFailure(error)
        }
        let promise = channel.eventLoop.makePromise(of: HTTPResponseStatus.self)
        let catcher = StatusCatcher(promise: promise)
        let timer = channel.eventLoop.scheduleTask(deadline: deadline) {
            catcher.finish(.failure(ChannelError.connectTimeout(timeout)))
        }
        do {
            try await channel.pipeline.addHTTPClientHandlers().get()
            try await channel.pipeline.addHandler(catcher).get()
            var headers = HTTPHeaders()
            headers.add(name: "Host", value: target.check.http.host ?? target.address.description)
            headers.add(name: "User-Agent", value: "sluice-health-check")
            headers.add(name: "Connection", value: "close")
            let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: target.check.http.path, headers: headers)
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        } catch {
            channel.eventLoop.execute { catcher.finish(.failure(error)) }
        }
        let outcome: CheckResult
        do {
            let status = try await promise.futureResult.get()
            let code = Int(status.code)
            if target.check.http.expectStatus.contains(where: { $0.contains(code) }) {
                outcome = CheckResult(status: .l7OK, durationMilliseconds: 0, detail: "HTTP \(code)")
            } else {
                outcome = CheckResult(status: .l7Status, durationMilliseconds: 0, detail: "HTTP \(code)")
            }
        } catch ChannelError.connectTimeout {
            outcome = CheckResult(status: .l7Timeout, durationMilliseconds: 0, detail: "no response in time")
        } catch {
            outcome = CheckResult(status: .l7Response, durationMilliseconds: 0, detail: "\(error)")
        }
        timer.cancel()
        try? await channel.close()
        return outcome
    }

    func exec(_ target: CheckTarget) async -> CheckResult {
        guard let executable = target.check.command.first else {
            return CheckResult(status: .processError, durationMilliseconds: 0, detail: "no command")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Array(target.check.command.dropFirst())
        var environment = ProcessInfo.processInfo.environment
        environment["SLUICE_RS_ADDRESS"] = target.address.description
        environment["SLUICE_RS_PORT"] = String(target.port)
        environment["SLUICE_VS"] = target.service
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let finished = AsyncStream<Int32>.makeStream()
        process.terminationHandler = { finished.continuation.yield($0.terminationStatus) }
        do {
            try process.run()
        } catch {
            return CheckResult(status: .processError, durationMilliseconds: 0, detail: "cannot start: \(error)")
        }
        let timeout = target.check.timeoutMilliseconds
        let status: Int32? = await withTaskGroup(of: Int32?.self) { group in
            group.addTask {
                for await status in finished.stream { return status }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: .milliseconds(timeout))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        guard let status else {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            return CheckResult(status: .processTimeout, durationMilliseconds: 0, detail: "killed after \(timeout)ms")
        }
        if status == 0 { return CheckResult(status: .processOK, durationMilliseconds: 0) }
        return CheckResult(status: .processError, durationMilliseconds: 0, detail: "exit \(status)")
    }
}

/// Completes the promise once: with the status of the first response head, or with the failure
/// (timeout, error, end of connection) that came first. Every call runs on the channel's event loop,
/// which is what makes the unsynchronised `done` flag safe.
private final class StatusCatcher: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    let promise: EventLoopPromise<HTTPResponseStatus>
    private var done = false

    init(promise: EventLoopPromise<HTTPResponseStatus>) { self.promise = promise }

    func finish(_ result: Result<HTTPResponseStatus, any Error>) {
        guard !done else { return }
        done = true
        promise.completeWith(result)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) { finish(.success(head.status)) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(.failure(error))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(ChannelError.eof))
    }
}
