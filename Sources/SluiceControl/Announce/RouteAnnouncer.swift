// Where announcements go: BIRD (an include file and `configure`), a hook program, or nowhere (the
// pull endpoint GET /v1/announce/{vip} still answers). An announcer takes the whole set of VIPs to
// announce each time; it is told again every reconciliation, so it may skip work when nothing changed.

import SluicePacket

/// A route announcement backend.
public protocol RouteAnnouncer: Sendable {
    /// Makes exactly `vips` announced.
    func apply(_ vips: [IPAddress]) async throws
}

/// No backend: the decision is only exposed (API, metrics).
public struct NoAnnouncer: RouteAnnouncer {
    public init() {}
    public func apply(_ vips: [IPAddress]) async throws {}
}
