// Everything wrong with a configuration, reported at once: a file with five typos should take one
// edit-check cycle, not five (docs/design.md §5: "reports every problem with its key path").

/// The configuration could not be loaded; `problems` lists every reason found.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    /// The file the problems are in (`<input>` for text that did not come from a file).
    public var file: String
    /// Every problem found, in document order.
    public var problems: [ConfigurationProblem]

    public init(file: String, problems: [ConfigurationProblem]) {
        self.file = file
        self.problems = problems
    }

    /// One problem per line, each as `FILE: keyPath: message`.
    public var description: String {
        problems.map { $0.line(file: file) }.joined(separator: "\n")
    }
}
