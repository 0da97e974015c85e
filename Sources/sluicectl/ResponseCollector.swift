// The channel handler of one admin API call: writes the request once the connection is up, gathers the
// answer's head and body parts that NIO's HTTP decoder produces, and completes the call's promise at
// the end of the answer. A connection that closes or fails first fails the promise instead (a promise
// completes once; whichever comes first wins, the deadline included).

import NIOCore
import NIOHTTP1

final class ResponseCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let request: ClientRequest
    private let answer: EventLoopPromise<AdminAnswer>
    private var head: HTTPResponseHead?
    private var body: [UInt8] = []

    init(request: ClientRequest, answer: EventLoopPromise<AdminAnswer>) {
        self.request = request
        self.answer = answer
    }

    func channelActive(context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(.head(request.head)), promise: nil)
        if request.hasBody {
            var buffer = context.channel.allocator.buffer(capacity: request.body.count)
            buffer.writeBytes(request.body)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body(var buffer):
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            if let head { answer.succeed(AdminAnswer(status: head.status, body: body)) }
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        answer.fail(AdminClientError.unexpectedAnswer("\(error)"))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        answer.fail(AdminClientError.unexpectedAnswer("the daemon closed the connection before answering"))
        context.fireChannelInactive()
    }
}
