// How a client shows an API error in one line: the message, then the field at fault when there is one.

extension APIError {
    /// `no such real server (field endpoint)`, or just the message.
    public var text: String {
        field.map { "\(error) (field \($0))" } ?? error
    }
}
