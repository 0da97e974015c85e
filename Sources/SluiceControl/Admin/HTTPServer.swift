// A small HTTP/1.1 server on SwiftNIO for the admin API (unix socket) and the metrics endpoint
// (TCP): NIO parses and encodes HTTP (`configureHTTPServerPipeline`, which also answers malformed
// requests with 400); this file only collects a request, hands it to an async responder and writes
// the answer, one request per connection. Bodies above `maximumBody` are refused with 413, idle
// connections are closed after `idleTimeout`, so a client cannot hold the server's resources.

import NIOCore
import NIOHTTP1
import NIOPosix

/// What a responder returns.
public struct HTTPAnswer: Sendable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]
    /// Extra headers (`Allow` with 405).
    public var headers: [(String, String)]

    public init(
        status: Int, contentType: String = "application/json", body: [UInt8], headers: [(String, String)] = []
    ) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.headers = headers
    }
}

/// Serves one responder over HTTP/1.1.
public enum HTTPServer {
    public static let maximumBody = 64 * 1024
    public static let idleTimeout = TimeAmount.seconds(10)

    /// A bootstrap whose connections run `respond` for each request.
    public static func bootstrap(
        group: any EventLoopGroup, respond: @escaping @Sendable (AdminRequest) async -> HTTPAnswer
    ) -> ServerBootstrap {
        ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: idleTimeout))
                    try channel.pipeline.syncOperations.addHandler(RequestCollector(respond: respond))
                }
            }
    }
}

/// Collects one request, answers it through the responder, closes the connection.
private final class RequestCollector: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let respond: @Sendable (AdminRequest) async -> HTTPAnswer
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var tooLarge = false
    private var answered = false

    init(respond: @escaping @Sendable (AdminRequest) async -> HTTPAnswer) { self.respond = respond }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body = []
        case .body(var buffer):
            if body.count + buffer.readableBytes > HTTPServer.maximumBody {
                tooLarge = true
            } else if let bytes = buffer.readBytes(length: buffer.readableBytes) {
                body += bytes
            }
        case .end:
            guard let head, !answered else { return }
            answered = true
            if tooLarge {
                write(
                    HTTPAnswer(status: 413, body: Array(#"{"error":"request body too large"}"#.utf8)), context: context)
                return
            }
            let request = AdminRequest(method: head.method.rawValue, uri: head.uri, body: body)
            let respond = self.respond
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let loop = context.eventLoop
            Task {
                let answer = await respond(request)
                loop.execute {
                    let (handler, context) = bound.value
                    handler.write(answer, context: context)
                }
            }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    private func write(_ answer: HTTPAnswer, context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: answer.contentType)
        headers.add(name: "Content-Length", value: String(answer.body.count))
        headers.add(name: "Connection", value: "close")
        for (name, value) in answer.headers { headers.add(name: name, value: value) }
        let head = HTTPResponseHead(
            version: .http1_1, status: HTTPResponseStatus(statusCode: answer.status), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        var buffer = context.channel.allocator.buffer(capacity: answer.body.count)
        buffer.writeBytes(answer.body)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }
}
