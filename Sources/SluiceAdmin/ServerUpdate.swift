// The body of a runtime change to a real server: a weight, an admin state, or both.

/// A runtime weight and/or admin state (`ready`, `drain`, `maint`).
public struct ServerUpdate: Codable, Sendable, Equatable {
    public var weight: UInt32?
    public var state: String?

    public init(weight: UInt32? = nil, state: String? = nil) {
        self.weight = weight
        self.state = state
    }
}
