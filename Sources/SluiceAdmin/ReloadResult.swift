// What a reload through the API did.

/// The outcome of `POST /v1/reload`.
public struct ReloadResult: Codable, Sendable, Equatable {
    public var applied: Bool
    /// One logfmt line per change applied.
    public var changes: [String]
    /// Keys that need a restart (the reload was refused), or the file's problems.
    public var problems: [String]

    public init(applied: Bool, changes: [String], problems: [String]) {
        self.applied = applied
        self.changes = changes
        self.problems = problems
    }
}
