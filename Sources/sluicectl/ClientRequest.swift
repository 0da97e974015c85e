// An admin API request as sluicectl sends it: method, path with query, and a JSON body if any.

import NIOHTTP1

struct ClientRequest: Sendable {
    var method: HTTPMethod
    /// The request target: path and query, already percent-encoded.
    var uri: String
    var body: [UInt8] = []
    /// False for a bodiless GET; a POST or PATCH always says how long its body is, even when empty.
    var hasBody = false

    /// The request head: Host because HTTP/1.1 requires it, Connection: close because each call has its
    /// own connection.
    var head: HTTPRequestHead {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "localhost")
        headers.add(name: "User-Agent", value: "sluicectl")
        headers.add(name: "Accept", value: "application/json")
        headers.add(name: "Connection", value: "close")
        if hasBody { headers.add(name: "Content-Type", value: "application/json") }
        if hasBody || method != .GET { headers.add(name: "Content-Length", value: String(body.count)) }
        return HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: headers)
    }
}
