// Whether a VIP is announced to the routers, and why (`quorum 0/1 (web)`, `drain`, `stall`, ...).

/// One VIP's route announcement.
public struct VIPAnnouncement: Codable, Sendable, Equatable {
    public var vip: String
    public var announced: Bool
    /// `ok` when announced; otherwise what holds it back.
    public var reason: String

    public init(vip: String, announced: Bool, reason: String) {
        self.vip = vip
        self.announced = announced
        self.reason = reason
    }
}
