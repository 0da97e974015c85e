// The operator's drain of the whole gateway: every VIP withdrawn, connections left to finish.

/// The gateway's drain, set through the API or a drain file.
public struct DrainState: Codable, Sendable, Equatable {
    public var drain: Bool
    /// True while the drain file (`announce.drain_file`) exists; the API cannot clear that.
    public var drainFile: Bool?

    public init(drain: Bool, drainFile: Bool? = nil) {
        self.drain = drain
        self.drainFile = drainFile
    }
}
