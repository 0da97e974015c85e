// BIRD 2's control socket (the protocol birdc speaks): on connect BIRD greets with `0001 BIRD … ready.`;
// each command is one line, and its reply is lines of a four-digit code followed by `-` (more lines
// follow), ` ` (the last line) or text continuing the previous line after a space. Codes 0xxx report
// success (`0003 Reconfigured`), 8xxx and 9xxx errors. SwiftNIO carries the bytes; this file only splits
// lines and reads their codes.

import NIOCore
import NIOPosix

/// One command over BIRD's control socket.
public enum BirdControl {
    /// A reply that is not a success.
    public struct Failure: Error, CustomStringConvertible {
        public let reply: [String]
        public var description: String { "bird answered: " + reply.joined(separator: " | ") }
    }

    /// Sends `command` (e.g. `configure`) and returns the reply's lines; throws `Failure` on an 8xxx or
    /// 9xxx code, and when BIRD does not answer within `timeout`.
    public static func run(
        _ command: String, socket path: String, timeout: TimeAmount = .seconds(5),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> [String] {
        let channel = try await ClientBootstrap(group: group).connect(unixDomainSocketPath: path).get()
        let promise = channel.eventLoop.makePromise(of: [String].self)
        let reader = ReplyReader(promise: promise)
        let timer = channel.eventLoop.scheduleTask(in: timeout) { reader.fail(Failure(reply: ["no answer in time"])) }
        defer { timer.cancel() }
        do {
            try await channel.pipeline.addHandler(reader).get()
            var buffer = channel.allocator.buffer(capacity: command.utf8.count + 1)
            buffer.writeString(command + "\n")
            try await channel.writeAndFlush(buffer).get()
            let reply = try await promise.futureResult.get()
            try? await channel.close()
            if let final = reply.last, let code = final.first, code == "8" || code == "9" {
                throw Failure(reply: reply)
            }
            return reply
        } catch {
            try? await channel.close()
            throw error
        }
    }

    /// True for the last line of a reply (`DDDD text`), false for a continuation (`DDDD-text`, ` text`).
    static func isFinal(_ line: String) -> Bool {
        let chars = Array(line.utf8.prefix(5))
        guard chars.count >= 4, chars[0..<4].allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else { return false }
        return chars.count == 4 || chars[4] == UInt8(ascii: " ")
    }
}

/// Splits BIRD's output into lines and completes the promise with the reply to our command (the
/// greeting, code 0001, is skipped). Every call runs on the channel's event loop.
private final class ReplyReader: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    let promise: EventLoopPromise<[String]>
    private var pending: [UInt8] = []
    private var lines: [String] = []
    private var done = false

    init(promise: EventLoopPromise<[String]>) { self.promise = promise }

    func fail(_ error: any Error) {
        guard !done else { return }
        done = true
        promise.fail(error)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if let bytes = buffer.readBytes(length: buffer.readableBytes) { pending += bytes }
        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            let line = String(decoding: pending[..<newline], as: UTF8.self)
            pending.removeSubrange(...newline)
            if line.hasPrefix("0001 ") { continue }  // the greeting
            lines.append(line)
            if BirdControl.isFinal(line), !done {
                done = true
                promise.succeed(lines)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(BirdControl.Failure(reply: lines + ["connection closed"]))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error)
        context.close(promise: nil)
    }
}
