// The daemon's answer to one request: its status and its (JSON) body.

import NIOHTTP1

struct AdminAnswer: Sendable {
    var status: HTTPResponseStatus
    var body: [UInt8]
}
