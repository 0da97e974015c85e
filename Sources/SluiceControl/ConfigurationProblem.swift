// One thing wrong with a configuration file, located by its key path
// (`virtual_servers[0].real_servers[2].address`) so that an operator can find it without line
// numbers, and by line and column where the YAML parser knows them.

/// A single error or warning found while loading a configuration.
public struct ConfigurationProblem: Sendable, Hashable, CustomStringConvertible {
    /// Where the problem is, e.g. `virtual_servers[0].port`; empty for the file as a whole.
    public var keyPath: String
    /// What is wrong, in words an operator can act on.
    public var message: String
    /// 1-based line of the offending node, when known.
    public var line: Int?
    /// 1-based column of the offending node, when known.
    public var column: Int?

    public init(keyPath: String, message: String, line: Int? = nil, column: Int? = nil) {
        self.keyPath = keyPath
        self.message = message
        self.line = line
        self.column = column
    }

    /// `keyPath: message`, or just the message for file-level problems.
    public var description: String {
        keyPath.isEmpty ? message : "\(keyPath): \(message)"
    }

    /// The problem as one line of a report about `file`: `FILE: keyPath: message`. File-level
    /// problems with a position (YAML syntax errors) read `FILE:LINE:COLUMN: message`.
    public func line(file: String) -> String {
        if keyPath.isEmpty, let line, let column {
            return "\(file):\(line):\(column): \(message)"
        }
        return "\(file): \(description)"
    }
}
