// One admin API call over the daemon's unix socket: connect, send one HTTP/1.1 request, collect the
// answer, close. NIO encodes the request and parses the answer (addHTTPClientHandlers);
// ResponseCollector only gathers it. A whole call has a deadline of 5 seconds, so a daemon that
// accepts but never answers (stuck, or its workers busy) cannot hang a script that calls sluicectl.

import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import SluiceAdmin

struct AdminClient: Sendable {
    let socketPath: String
    var timeout: TimeAmount = .seconds(5)

    /// GET `path` and decode a 2xx answer as `T`.
    func get<T: Decodable>(_ path: String, as type: T.Type) async throws -> T {
        try decode(type, from: await call(ClientRequest(method: .GET, uri: path)))
    }

    /// Send `body` as JSON and decode a 2xx answer, or one of `alsoAccepting` (an answer that carries
    /// the same type, like reload's 409), as `T`.
    func send<T: Decodable>(
        _ method: HTTPMethod, _ path: String, body: (any Encodable)? = nil, as type: T.Type,
        alsoAccepting: Set<Int> = []
    ) async throws -> T {
        let data = try body.map { try JSONEncoder().encode($0) } ?? Data()
        let request = ClientRequest(method: method, uri: path, body: Array(data), hasBody: body != nil)
        return try decode(type, from: await call(request), alsoAccepting: alsoAccepting)
    }

    func decode<T: Decodable>(_ type: T.Type, from answer: AdminAnswer, alsoAccepting: Set<Int> = []) throws -> T {
        let status = Int(answer.status.code)
        guard (200..<300).contains(status) || alsoAccepting.contains(status) else {
            if let error = try? JSONDecoder().decode(APIError.self, from: Data(answer.body)) {
                throw AdminClientError.refused(error)
            }
            throw AdminClientError.unexpectedAnswer("HTTP \(status) \(answer.status.reasonPhrase)")
        }
        do {
            return try JSONDecoder().decode(type, from: Data(answer.body))
        } catch let error as DecodingError {
            throw AdminClientError.unexpectedAnswer("HTTP \(status), not the \(T.self) expected: \(Self.reason(error))")
        }
    }

    /// One request on a connection of its own (the daemon closes after each answer).
    func call(_ request: ClientRequest) async throws -> AdminAnswer {
        let eventLoop = MultiThreadedEventLoopGroup.singleton.next()
        let answer = eventLoop.makePromise(of: AdminAnswer.self)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: eventLoop)
                .connectTimeout(timeout)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(
                            ResponseCollector(request: request, answer: answer))
                    }
                }
                .connect(unixDomainSocketPath: socketPath).get()
        } catch {
            let failure = AdminClientError.unreachable(socket: socketPath, reason: AdminClientError.reason(error))
            answer.fail(failure)
            throw failure
        }
        let socketPath = socketPath
        let seconds = timeout.nanoseconds / 1_000_000_000
        let deadline = eventLoop.scheduleTask(in: timeout) {
            answer.fail(AdminClientError.timedOut(socket: socketPath, seconds: seconds))
            channel.close(promise: nil)
        }
        defer { deadline.cancel() }
        return try await answer.futureResult.get()
    }

    /// What did not match, and where: a daemon of another version may send another shape.
    static func reason(_ error: DecodingError) -> String {
        func place(_ context: DecodingError.Context) -> String {
            let path = context.codingPath.map { key in key.intValue.map { "[\($0)]" } ?? ".\(key.stringValue)" }
            return path.isEmpty ? "" : " at " + path.joined()
        }
        switch error {
        case .keyNotFound(let key, let context): return "no \"\(key.stringValue)\"" + place(context)
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return context.debugDescription + place(context)
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "the body is not JSON" : context.debugDescription + place(context)
        @unknown default: return "\(error)"
        }
    }
}
