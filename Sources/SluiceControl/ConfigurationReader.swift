// Reads a composed YAML tree into typed values, collecting every problem instead of stopping at the
// first one. Codable decoding was the obvious alternative and was rejected: it throws on the first
// mismatch and reports coding paths, not the key paths an operator sees in the file, and it silently
// ignores unknown keys (where a typo such as `shceduler` must be an error).
//
// Each accessor takes the node and its key path, returns nil after recording a problem when the
// value is unusable, and never traps. Scalars that are addresses, names or enum words are read from
// their source text, not from YAML's implicit typing, so that `1:2:3:4:5:6:7:8` (a YAML 1.1
// sexagesimal integer) or `no` (a YAML 1.1 boolean) still reach the address or word parsers intact.

import SluicePacket
import Yams

/// Walks the YAML node tree of a configuration file and records problems with their key paths.
/// A class so that the per-field closures of the section readers can record problems too.
final class ConfigurationReader {
    /// Errors found so far, in document order.
    private(set) var problems: [ConfigurationProblem] = []
    /// Warnings found so far.
    private(set) var warnings: [ConfigurationProblem] = []

    /// Records an error at `path`, positioned at `node` when given.
    func error(_ path: String, _ message: String, at node: Node? = nil) {
        problems.append(
            ConfigurationProblem(keyPath: path, message: message, line: node?.mark?.line, column: node?.mark?.column)
        )
    }

    /// Records a warning at `path`.
    func warning(_ path: String, _ message: String, at node: Node? = nil) {
        warnings.append(
            ConfigurationProblem(keyPath: path, message: message, line: node?.mark?.line, column: node?.mark?.column)
        )
    }

    init() {}

    /// `read(node)` when the key is present, `value` when it is absent, nil (after `read` recorded a
    /// problem) when it is present but unusable.
    func optional<T>(_ node: Node?, default value: T, _ read: (Node) -> T?) -> T? {
        guard let node else { return value }
        return read(node)
    }

    /// `path.key` (or `key` at the top level).
    static func child(_ path: String, _ key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }

    /// `path[index]`.
    static func element(_ path: String, _ index: Int) -> String {
        "\(path)[\(index)]"
    }

    // MARK: - Structure

    /// The values of a mapping by key. Reports a non-mapping node, keys that are not strings, keys not
    /// in `allowed` (with a suggestion when one is close) and `required` keys that are missing.
    func fields(
        of node: Node, at path: String, allowed: [String], required: [String] = []
    ) -> [String: Node]? {
        guard case .mapping(let mapping) = node else {
            error(path, "expected a mapping (key: value pairs), found \(Self.describe(node))", at: node)
            return nil
        }
        var result: [String: Node] = [:]
        for (keyNode, value) in mapping {
            guard case .scalar(let keyScalar) = keyNode else {
                error(path, "keys must be plain words, found \(Self.describe(keyNode))", at: keyNode)
                continue
            }
            let key = keyScalar.string
            guard allowed.contains(key) else {
                error(Self.child(path, key), Self.unknownKeyMessage(key, allowed: allowed), at: keyNode)
                continue
            }
            result[key] = value
        }
        for key in required where result[key] == nil {
            error(Self.child(path, key), "missing required key", at: node)
        }
        return result
    }

    /// The elements of a sequence; reports anything else.
    func sequence(_ node: Node, at path: String) -> [Node]? {
        guard case .sequence(let sequence) = node else {
            error(path, "expected a list, found \(Self.describe(node))", at: node)
            return nil
        }
        return Array(sequence)
    }

    /// The mapping's key/value pairs in document order, for mappings whose keys are names (groups).
    func namedEntries(_ node: Node, at path: String) -> [(name: String, keyNode: Node, value: Node)]? {
        guard case .mapping(let mapping) = node else {
            error(path, "expected a mapping of names to values, found \(Self.describe(node))", at: node)
            return nil
        }
        var result: [(name: String, keyNode: Node, value: Node)] = []
        for (keyNode, value) in mapping {
            guard case .scalar(let keyScalar) = keyNode, !keyScalar.string.isEmpty else {
                error(path, "names must be non-empty plain words, found \(Self.describe(keyNode))", at: keyNode)
                continue
            }
            result.append((keyScalar.string, keyNode, value))
        }
        return result
    }

    // MARK: - Scalars

    /// The source text of a non-null scalar.
    func string(_ node: Node, at path: String) -> String? {
        guard case .scalar(let scalar) = node, Self.kind(node) != .null else {
            error(path, "expected a string, found \(Self.describe(node))", at: node)
            return nil
        }
        return scalar.string
    }

    /// An integer in `range`.
    func integer(_ node: Node, at path: String, in range: ClosedRange<Int>) -> Int? {
        guard decimal(node, at: path) else { return nil }
        guard Self.kind(node) == .int, let value = node.int else {
            if Self.kind(node) == .int {
                error(path, "\(node.scalar?.string ?? "") is too large", at: node)
            } else {
                error(path, "expected an integer, found \(Self.describe(node))", at: node)
            }
            return nil
        }
        guard range.contains(value) else {
            error(path, "\(value) is out of range (\(range.lowerBound)...\(range.upperBound))", at: node)
            return nil
        }
        return value
    }

    /// False, with the problem recorded, for an integer not written in plain decimal: YAML 1.1 also
    /// reads `0x50`, `0120`, `0o120`, `1:20` and `1_000` as integers (the first three as 80), which a
    /// port, weight or count must never become by surprise.
    func decimal(_ node: Node, at path: String) -> Bool {
        guard Self.kind(node) == .int, let text = node.scalar?.string, !Self.isPlainDecimal(text) else { return true }
        error(
            path,
            "\(text) is not a plain decimal number (YAML 1.1 reads it as \(node.int.map(String.init) ?? "another number")); write it in decimal",
            at: node)
        return false
    }

    /// `0`, or an optional sign and digits without a leading zero.
    static func isPlainDecimal(_ text: String) -> Bool {
        let digits = text.first == "-" || text.first == "+" ? text.dropFirst() : Substring(text)
        guard !digits.isEmpty, digits.allSatisfy({ $0 >= "0" && $0 <= "9" }) else { return false }
        return digits == "0" || digits.first != "0"
    }

    /// `true`/`false` (YAML 1.1's yes/no/on/off are accepted too).
    func boolean(_ node: Node, at path: String) -> Bool? {
        guard Self.kind(node) == .bool, let value = node.bool else {
            error(path, "expected true or false, found \(Self.describe(node))", at: node)
            return nil
        }
        return value
    }

    /// One of a fixed set of words.
    func choice<Value>(_ node: Node, at path: String, from choices: [(String, Value)]) -> Value? {
        guard let text = string(node, at: path) else { return nil }
        if let match = choices.first(where: { $0.0 == text }) {
            return match.1
        }
        let words = choices.map(\.0)
        var message = "\"\(text)\" is not one of \(words.joined(separator: ", "))"
        if let suggestion = Self.closest(to: text, among: words) {
            message += " (did you mean \"\(suggestion)\"?)"
        }
        error(path, message, at: node)
        return nil
    }

    /// A choice among the raw values of a string enum.
    func choice<Value: CaseIterable & RawRepresentable>(
        _ node: Node, at path: String, of type: Value.Type
    ) -> Value? where Value.RawValue == String {
        choice(node, at: path, from: Value.allCases.map { ($0.rawValue, $0) })
    }

    /// An IPv4 or IPv6 address (no prefix length, no zone).
    func address(_ node: Node, at path: String) -> IPAddress? {
        guard let text = string(node, at: path) else { return nil }
        guard let address = IPAddress(text) else {
            error(path, "\"\(text)\" is not an IPv4 or IPv6 address", at: node)
            return nil
        }
        // ::ffff:a.b.c.d names an IPv4 host in IPv6 clothing: as a VIP, LIP or real server it would make
        // an IPv6 service no IPv6 packet ever reaches.
        if address.isV6 && address.high == 0 && address.low >> 32 == 0xFFFF {
            error(
                path,
                "\"\(text)\" is an IPv4-mapped IPv6 address; write the IPv4 address \(IPAddress(v4: UInt32(truncatingIfNeeded: address.low)))",
                at: node)
            return nil
        }
        return address
    }

    /// The longest duration accepted anywhere: 30 days, in seconds.
    static let maximumDuration = 30 * 24 * 3600

    /// A duration in whole seconds: an integer, or a string of number+unit parts (`90s`, `15m`,
    /// `1h30m`; units s, m, h, d). Must be between 1 s and 30 days.
    func duration(_ node: Node, at path: String) -> UInt32? {
        let seconds: Int?
        if Self.kind(node) == .int {
            guard decimal(node, at: path) else { return nil }
            seconds = node.int
        } else if Self.kind(node) == .str, let text = node.scalar?.string {
            seconds = Self.parseDuration(text)
        } else {
            seconds = nil
        }
        guard let seconds else {
            error(
                path,
                "expected a duration (seconds, or a number with s, m, h or d such as \"90s\" or \"15m\"), found "
                    + Self.describe(node),
                at: node
            )
            return nil
        }
        guard seconds >= 1 && seconds <= Self.maximumDuration else {
            error(path, "duration \(seconds)s is out of range (1s...30d)", at: node)
            return nil
        }
        return UInt32(seconds)
    }

    /// Seconds in `90s`, `15m`, `1h30m`, `2d` (and `1500ms`-style parts that add up to whole
    /// seconds); nil for anything else (including a bare `90`, which YAML already types as an integer).
    static func parseDuration(_ text: String) -> Int? {
        guard let ms = parseMilliseconds(text), ms % 1000 == 0 else { return nil }
        return ms / 1000
    }

    /// Milliseconds in `500ms`, `2s`, `1m30s`, `1h`, `2d`; nil for anything else.
    static func parseMilliseconds(_ text: String) -> Int? {
        var total = 0
        var number: Int?
        var characters = Array(text)[...]
        while let character = characters.first {
            characters = characters.dropFirst()
            if let digit = character.wholeNumberValue, character.isASCII {
                let (shifted, o1) = (number ?? 0).multipliedReportingOverflow(by: 10)
                let (sum, o2) = shifted.addingReportingOverflow(digit)
                guard !o1 && !o2 else { return nil }
                number = sum
                continue
            }
            let unit: Int
            switch character {
            case "m" where characters.first == "s":
                characters = characters.dropFirst()
                unit = 1
            case "s": unit = 1000
            case "m": unit = 60_000
            case "h": unit = 3_600_000
            case "d": unit = 86_400_000
            default: return nil
            }
            guard let value = number else { return nil }
            let (part, o1) = value.multipliedReportingOverflow(by: unit)
            let (sum, o2) = total.addingReportingOverflow(part)
            guard !o1 && !o2 else { return nil }
            total = sum
            number = nil
        }
        // Every number needs a unit; an empty string has no parts at all.
        guard number == nil, !text.isEmpty else { return nil }
        return total
    }

    /// The node's resolved YAML tag (`tag:yaml.org,2002:int`, ...): explicit, or implied by the
    /// scalar's text and quoting.
    static func kind(_ node: Node) -> Tag.Name {
        Tag.Name(rawValue: node.tag.rawValue)
    }

    // MARK: - Messages

    /// How a node looks, for "expected X, found Y" messages.
    static func describe(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let scalar):
            switch kind(node) {
            case .null: return "nothing (null)"
            case .int: return "the integer \(scalar.string)"
            case .float: return "the number \(scalar.string)"
            case .bool: return "the boolean \(scalar.string)"
            default: return "the string \"\(scalar.string)\""
            }
        }
    }

    /// `unknown key "x"`, with the closest allowed key or the list of allowed keys.
    static func unknownKeyMessage(_ key: String, allowed: [String]) -> String {
        if let suggestion = closest(to: key, among: allowed) {
            return "unknown key \"\(key)\" (did you mean \"\(suggestion)\"?)"
        }
        return "unknown key \"\(key)\"; expected one of: \(allowed.joined(separator: ", "))"
    }

    /// The candidate closest to `word` by edit distance, if it is close enough to be a likely typo.
    static func closest(to word: String, among candidates: [String]) -> String? {
        let limit = max(1, min(3, word.count / 3))
        var best: (String, Int)?
        for candidate in candidates {
            let distance = editDistance(word, candidate)
            if distance <= limit && distance < (best?.1 ?? Int.max) {
                best = (candidate, distance)
            }
        }
        return best?.0
    }

    /// Levenshtein distance with adjacent transpositions counted as one edit.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous2 = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], previous2[j - 2] + 1)
                }
            }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[b.count]
    }
}

/// The duration grammar of the configuration, for tools and tests.
public enum ConfigurationLoaderDurations {
    /// Milliseconds in `500ms`, `2s`, `1m30s`; nil when not a duration.
    public static func milliseconds(_ text: String) -> Int? { ConfigurationReader.parseMilliseconds(text) }
    /// Whole seconds in `90s`, `15m`, `2000ms`; nil when not a duration of whole seconds.
    public static func seconds(_ text: String) -> Int? { ConfigurationReader.parseDuration(text) }
}
