// The admin API's routes (docs/admin-api.yaml), independent of the transport: a request in, a
// status and a JSON body out. Every bad input is a 4xx with an `APIError` naming the field; nothing
// a request carries can crash the daemon or make it wait longer than the workers' one-second
// deadline. The HTTP server (HTTPServer.swift) hands requests here.

import Foundation
import SluiceAdmin
import SluiceCore
import SluicePacket

/// One admin API request.
public struct AdminRequest: Sendable {
    public var method: String
    /// The request target as sent (path and query).
    public var uri: String
    public var body: [UInt8]

    public init(method: String, uri: String, body: [UInt8] = []) {
        self.method = method
        self.uri = uri
        self.body = body
    }
}

/// One admin API response: a status and a JSON body.
public struct AdminResponse: Sendable {
    public var status: Int
    public var body: [UInt8]
    /// The methods a resource allows, with 405 (RFC 9110 §15.5.6).
    public var allow: String?

    public init(status: Int, body: [UInt8], allow: String? = nil) {
        self.status = status
        self.body = body
        self.allow = allow
    }

    public var json: String { String(decoding: body, as: UTF8.self) }
}

/// Routes admin API requests.
public struct AdminHandler: Sendable {
    let control: ControlPlane
    let gateway: any AdminGateway
    let sampler: TrafficSampler
    let reload: @Sendable () async -> ReloadResult
    let board: AnnounceBoard
    let syncBoard: SyncBoard
    /// The largest listing page.
    public static let maximumLimit = 10_000
    public static let defaultLimit = 1000

    public init(
        control: ControlPlane, gateway: any AdminGateway, sampler: TrafficSampler,
        board: AnnounceBoard = AnnounceBoard(), syncBoard: SyncBoard = SyncBoard(),
        reload: @escaping @Sendable () async -> ReloadResult
    ) {
        self.syncBoard = syncBoard
        self.control = control
        self.gateway = gateway
        self.sampler = sampler
        self.board = board
        self.reload = reload
    }

    static func encode<T: Encodable>(_ value: T, status: Int = 200) -> AdminResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let body = (try? encoder.encode(value)).map { Array($0) } ?? Array("{}".utf8)
        return AdminResponse(status: status, body: body)
    }

    static func failure(_ status: Int, _ message: String, field: String? = nil) -> AdminResponse {
        encode(APIError(error: message, field: field), status: status)
    }

    public func handle(_ request: AdminRequest) async -> AdminResponse {
        guard let components = URLComponents(string: request.uri) else {
            return Self.failure(400, "malformed request target")
        }
        let segments = components.percentEncodedPath.split(separator: "/", omittingEmptySubsequences: true).map {
            String($0).removingPercentEncoding ?? String($0)
        }
        var query: [String: String] = [:]
        for item in components.queryItems ?? [] { query[item.name] = item.value ?? "" }
        switch (request.method, segments) {
        case ("GET", ["v1", "services"]), ("GET", ["v1", "health"]):
            return Self.encode(await services())
        case ("GET", let s) where s.count == 3 && s[0] == "v1" && s[1] == "services":
            guard let found = await services().first(where: { $0.name == s[2] }) else {
                return Self.failure(404, "no virtual server \"\(s[2])\"", field: "name")
            }
            return Self.encode(found)
        case ("PATCH", let s) where s.count == 6 && s[0] == "v1" && s[1] == "services" && s[3] == "servers":
            return await updateServer(service: s[2], address: s[4], port: s[5], body: request.body)
        case ("GET", ["v1", "connections"]):
            return await connections(query)
        case ("GET", ["v1", "laddr"]):
            guard let usage = await gateway.localAddresses() else {
                return Self.failure(503, "the workers did not answer in time")
            }
            return Self.encode(usage)
        case ("GET", ["v1", "counters"]):
            var out: [String: UInt64] = [:]
            for (name, value) in gateway.counters() { out[name] = value }
            return Self.encode(out)
        case ("POST", ["v1", "reload"]):
            let result = await reload()
            return Self.encode(result, status: result.applied ? 200 : 409)
        case ("GET", ["v1", "explain"]):
            return await explain(query)
        case ("GET", ["v1", "announce"]):
            return Self.encode(await board.decisions)
        case ("GET", let s) where s.count == 3 && s[0] == "v1" && s[1] == "announce":
            return await announcement(s[2])
        case ("GET", ["v1", "sync"]):
            guard let status = await syncBoard.status else {
                return Self.failure(404, "connection sync is off (no sync section in the configuration)")
            }
            return Self.encode(status)
        case ("GET", ["v1", "drain"]):
            return Self.encode(await drainState())
        case ("PUT", ["v1", "drain"]):
            return await setDrain(request.body)
        case (_, let s) where Self.allowedMethods(s) != nil:
            var response = Self.failure(405, "method \(request.method) is not allowed here")
            response.allow = Self.allowedMethods(s)
            return response
        default:
            return Self.failure(404, "no such resource: \(components.percentEncodedPath)")
        }
    }

    /// The methods a known path allows; nil for an unknown path.
    static func allowedMethods(_ s: [String]) -> String? {
        guard s.first == "v1", s.count >= 2 else { return nil }
        switch s[1] {
        case "services" where s.count == 2 || s.count == 3: return "GET"
        case "services" where s.count == 6 && s[3] == "servers": return "PATCH"
        case "connections" where s.count == 2, "laddr" where s.count == 2, "counters" where s.count == 2,
            "explain" where s.count == 2, "health" where s.count == 2, "sync" where s.count == 2:
            return "GET"
        case "reload" where s.count == 2: return "POST"
        case "announce" where s.count == 2 || s.count == 3: return "GET"
        case "drain" where s.count == 2: return "GET, PUT"
        default: return nil
        }
    }

    /// The pull endpoint: 200 while the VIP is announced, 503 while it is not (ExaBGP-healthcheck style).
    func announcement(_ text: String) async -> AdminResponse {
        guard let vip = IPAddress(text) else {
            return Self.failure(400, "expected an IP address, got \"\(text)\"", field: "vip")
        }
        guard let found = await board.decisions.first(where: { IPAddress($0.vip) == vip }) else {
            return Self.failure(404, "\(vip) is no VIP of this gateway", field: "vip")
        }
        return Self.encode(found, status: found.announced ? 200 : 503)
    }

    func drainState() async -> DrainState {
        let file = await control.state.configuration.announce.drainFile
        let fileDrain = file.map { FileManager.default.fileExists(atPath: $0) }
        return DrainState(drain: await control.drained || (fileDrain ?? false), drainFile: fileDrain)
    }

    func setDrain(_ body: [UInt8]) async -> AdminResponse {
        guard let wanted = try? JSONDecoder().decode(DrainState.self, from: Data(body)) else {
            return Self.failure(400, "the body must be {\"drain\": true|false}", field: "drain")
        }
        if let extra = Self.unknownKeys(body, allowed: ["drain"]).first {
            return Self.failure(400, "unknown field \"\(extra)\"", field: extra)
        }
        await control.setDrain(wanted.drain)
        return Self.encode(await drainState())
    }

    func services() async -> [VirtualServerStatus] {
        let state = await control.state
        let traffic = await gateway.serverTraffic() ?? []
        let rates = await sampler.rates
        return StatusBuilder.services(state, traffic: traffic) { rates[$0] ?? TrafficRate() }
    }

    func updateServer(service: String, address text: String, port portText: String, body: [UInt8]) async
        -> AdminResponse
    {
        guard let address = IPAddress(text) else {
            return Self.failure(400, "expected an IP address, got \"\(text)\"", field: "address")
        }
        guard let port = UInt16(portText), port > 0 else {
            return Self.failure(400, "expected a port in 1...65535, got \"\(portText)\"", field: "port")
        }
        let endpoint = ConfigurationVocabulary.endpoint(address, port)
        let update: ServerUpdate
        do {
            update = try JSONDecoder().decode(ServerUpdate.self, from: Data(body))
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            return Self.failure(400, "wrong type: \(context.debugDescription)", field: field.isEmpty ? nil : field)
        } catch {
            return Self.failure(400, "the body must be a JSON object {\"weight\": N, \"state\": \"ready|drain|maint\"}")
        }
        if let extra = Self.unknownKeys(body, allowed: ["weight", "state"]).first {
            return Self.failure(400, "unknown field \"\(extra)\"", field: extra)
        }
        guard update.weight != nil || update.state != nil else {
            return Self.failure(400, "give a weight, a state or both", field: "weight")
        }
        if let weight = update.weight, weight > 65535 {
            return Self.failure(400, "weight \(weight) is out of range (0...65535)", field: "weight")
        }
        var state: AdminState?
        if let text = update.state {
            guard let parsed = AdminState(rawValue: text) else {
                return Self.failure(400, "state must be ready, drain or maint, got \"\(text)\"", field: "state")
            }
            state = parsed
        }
        let id = RealServerID(service: service, address: address, port: port)
        guard await control.setOverride(id, weight: update.weight, adminState: state) else {
            return Self.failure(404, "virtual server \"\(service)\" has no real server \(endpoint)", field: "address")
        }
        let status = await services().first { $0.name == service }?.servers.first {
            $0.address == address.description && $0.port == port && !$0.isSorryServer
        }
        guard let status else { return Self.failure(404, "the server is gone", field: "address") }
        return Self.encode(status)
    }

    /// Top-level keys of a JSON object body that are not `allowed`.
    static func unknownKeys(_ body: [UInt8], allowed: Set<String>) -> [String] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else { return [] }
        return object.keys.filter { !allowed.contains($0) }.sorted()
    }

    func connections(_ query: [String: String]) async -> AdminResponse {
        var filter = ConnectionFilter()
        filter.service = query["service"].flatMap { $0.isEmpty ? nil : $0 }
        if let server = query["server"] {
            guard let address = IPAddress(server) else {
                return Self.failure(400, "expected an IP address, got \"\(server)\"", field: "server")
            }
            filter.server = address
        }
        if let text = query["server_port"] {
            guard let port = UInt16(text), port > 0 else {
                return Self.failure(400, "server_port must be an integer in 1...65535", field: "server_port")
            }
            filter.serverPort = port
        }
        if let client = query["client"] {
            guard let address = IPAddress(client) else {
                return Self.failure(400, "expected an IP address, got \"\(client)\"", field: "client")
            }
            filter.client = address
        }
        let offset: Int
        if let text = query["offset"] {
            guard let value = Int(text), value >= 0, value <= 100_000_000 else {
                return Self.failure(400, "offset must be an integer of at least 0", field: "offset")
            }
            offset = value
        } else {
            offset = 0
        }
        let limit: Int
        if let text = query["limit"] {
            guard let value = Int(text), (1...Self.maximumLimit).contains(value) else {
                return Self.failure(400, "limit must be an integer in 1...\(Self.maximumLimit)", field: "limit")
            }
            limit = value
        } else {
            limit = Self.defaultLimit
        }
        guard let page = await gateway.connections(filter, offset: offset, limit: limit) else {
            return Self.failure(503, "the workers did not answer in time")
        }
        return Self.encode(page)
    }

    func explain(_ query: [String: String]) async -> AdminResponse {
        guard let text = query["protocol"], let transport = TransportProtocol.named(text) else {
            return Self.failure(400, "protocol must be tcp or udp", field: "protocol")
        }
        guard let clientAddress = query["client"].flatMap(IPAddress.init) else {
            return Self.failure(400, "client must be an IP address", field: "client")
        }
        guard let clientPort = query["client_port"].flatMap({ UInt16($0) }) else {
            return Self.failure(400, "client_port must be an integer in 0...65535", field: "client_port")
        }
        guard let vipAddress = query["vip"].flatMap(IPAddress.init) else {
            return Self.failure(400, "vip must be an IP address", field: "vip")
        }
        guard let vport = query["vport"].flatMap({ UInt16($0) }) else {
            return Self.failure(400, "vport must be an integer in 0...65535", field: "vport")
        }
        let client = (clientAddress, clientPort)
        let vip = (vipAddress, vport)
        guard
            let found = await gateway.explain(
                transport: transport, client: client.0, clientPort: client.1, vip: vip.0, vport: vip.1)
        else {
            return Self.failure(503, "the workers did not answer in time")
        }
        var result = ExplainResult(service: found.service, rule: found.rule)
        if let existing = found.existing { result.connection = RuntimeGateway.entry(existing, worker: 0) }
        if let server = found.server {
            result.server = server.address.description
            result.serverPort = server.port
        }
        if let local = found.local {
            result.local = local.address.description
            result.localPort = local.port
        }
        if let failure = found.failure { result.reason = Counters.snakeCase("\(failure)") }
        return Self.encode(result)
    }
}

extension TransportProtocol {
    /// `tcp` or `udp`.
    static func named(_ text: String) -> TransportProtocol? {
        switch text {
        case "tcp": return .tcp
        case "udp": return .udp
        default: return nil
        }
    }
}
