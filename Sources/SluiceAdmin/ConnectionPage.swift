// A page of the connection listing.

/// Connections matching a filter, `offset` to `offset + connections.count` of `total`.
public struct ConnectionPage: Codable, Sendable, Equatable {
    public var total: Int
    public var offset: Int
    public var limit: Int
    public var connections: [ConnectionEntry]

    public init(total: Int, offset: Int, limit: Int, connections: [ConnectionEntry]) {
        self.total = total
        self.offset = offset
        self.limit = limit
        self.connections = connections
    }
}
