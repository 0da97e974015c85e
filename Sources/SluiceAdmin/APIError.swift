// The body of every 4xx/5xx answer: what was wrong and, where one field is to blame, which.

/// An error answer of the admin API.
public struct APIError: Codable, Sendable, Equatable, Error {
    public var error: String
    public var field: String?

    public init(error: String, field: String? = nil) {
        self.error = error
        self.field = field
    }
}
