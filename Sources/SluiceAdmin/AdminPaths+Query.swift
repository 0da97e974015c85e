// Request targets with query strings for the admin API's GET requests: names and values
// percent-encoded the same way as path segments, and absent options left out rather than sent empty
// (an empty filter is not "any"). The parameter names are docs/admin-api.yaml's, kept here, next to
// the paths, so that the daemon and sluicectl share them.

extension AdminPaths {
    /// `path?name=value&...` with the items that have a value, in the order given; `path` when none has.
    public static func query(_ path: String, _ items: [(name: String, value: String?)]) -> String {
        let pairs = items.compactMap { item in item.value.map { encode(item.name) + "=" + encode($0) } }
        return pairs.isEmpty ? path : path + "?" + pairs.joined(separator: "&")
    }

    /// `GET /v1/connections`: filters by virtual server, real server (its address, and port if given)
    /// and client address, and a page size.
    public static func connectionsQuery(
        service: String? = nil, server: String? = nil, serverPort: UInt16? = nil, client: String? = nil,
        limit: Int? = nil
    ) -> String {
        query(
            connections,
            [
                ("service", service), ("server", server), ("server_port", serverPort.map { String($0) }),
                ("client", client), ("limit", limit.map { String($0) }),
            ])
    }

    /// `GET /v1/explain` for a flow from `client` to `vip`, addresses and ports as parameters of their own.
    public static func explainQuery(protocol name: String, client: AdminEndpoint, vip: AdminEndpoint) -> String {
        query(
            explain,
            [
                ("protocol", name), ("client", client.address), ("client_port", String(client.port)),
                ("vip", vip.address), ("vport", String(vip.port)),
            ])
    }
}
