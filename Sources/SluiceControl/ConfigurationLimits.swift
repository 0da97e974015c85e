// Limits checked before the YAML library composes a document, so that no configuration (a file, a
// reload, `sluice check`) can hang or exhaust the daemon:
// - the input size (`maximumBytes`), which bounds what the composer and the reader can be made to do;
// - no anchors, aliases or merge keys: an alias used as a mapping key makes the YAML library hash the
//   expanded node (time grows about eightfold per level), and nested aliases multiply what the reader
//   walks ("billion laughs"). Sluice's files have no need of them. The scan is lexical and
//   conservative: an `&name` or `*name` where a node can start (line start, after `- `, `: `, `[`,
//   `{` or `,`), outside quotes, comments and block scalars;
// - the number of virtual servers and real servers (`maximumVirtualServers`, `maximumRealServers`),
//   counted on the composed tree before anything is read from it.

import Yams

/// Stated limits of a configuration document.
public enum ConfigurationLimits {
    /// The largest configuration accepted: 8 MiB (about 150 000 real servers in flow style).
    public static let maximumBytes = 8 << 20
    /// Virtual servers per configuration.
    public static let maximumVirtualServers = 4096
    /// Real servers over all virtual servers (a service's servers are indexed by 16 bits as well).
    public static let maximumRealServers = 131_072
    /// Real servers of one virtual server.
    public static let maximumRealServersPerService = 65_000

    /// The first anchor, alias or merge key in `yaml`, with its 1-based line and column.
    public static func firstAlias(in yaml: String) -> (line: Int, column: Int, text: String)? {
        var blockIndent: Int?  // inside a block scalar: lines indented more than this are its text
        for (index, line) in yaml.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let chars = Array(line.utf8)
            let indent = chars.prefix { $0 == UInt8(ascii: " ") }.count
            if let block = blockIndent {
                if indent > block || chars.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") }) {
                    continue
                }
                blockIndent = nil
            }
            if let found = scan(chars, blockIndent: &blockIndent, indent: indent) {
                return (index + 1, found.column + 1, found.text)
            }
        }
        return nil
    }

    private static func scan(_ chars: [UInt8], blockIndent: inout Int?, indent: Int) -> (column: Int, text: String)? {
        var quote: UInt8?
        var i = 0
        var lastSignificant: UInt8?  // the previous non-blank character outside quotes
        while i < chars.count {
            let c = chars[i]
            if let q = quote {
                if c == UInt8(ascii: "\\") && q == UInt8(ascii: "\"") {
                    i += 2
                    continue
                }
                if c == q { quote = nil }
                i += 1
                continue
            }
            let previous: UInt8? = i > 0 ? chars[i - 1] : nil
            let separated = previous == nil || previous == UInt8(ascii: " ") || previous == UInt8(ascii: "\t")
            switch c {
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                if separated || lastSignificant.map(isFlowIndicator) ?? true { quote = c }
            case UInt8(ascii: "#") where separated:
                return nil
            case UInt8(ascii: "&"), UInt8(ascii: "*"):
                let nodeStart =
                    lastSignificant == nil
                    || (lastSignificant.map {
                        isFlowIndicator($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "-")
                    }
                        ?? false)
                let flowSeparated = previous.map { isFlowIndicator($0) } ?? false
                if nodeStart && (separated || flowSeparated), i + 1 < chars.count, isNameCharacter(chars[i + 1]) {
                    let end = chars[(i + 1)...].firstIndex { !isNameCharacter($0) } ?? chars.count
                    return (i, String(decoding: chars[i..<end], as: UTF8.self))
                }
            case UInt8(ascii: "<")
            where i + 2 < chars.count && chars[i + 1] == UInt8(ascii: "<") && chars[i + 2] == UInt8(ascii: ":")
                && (lastSignificant == nil || lastSignificant == UInt8(ascii: "-")
                    || lastSignificant.map(isFlowIndicator) ?? false):
                return (i, "<<")
            case UInt8(ascii: "|") where lastSignificant == UInt8(ascii: ":") || lastSignificant == UInt8(ascii: "-"),
                UInt8(ascii: ">") where lastSignificant == UInt8(ascii: ":") || lastSignificant == UInt8(ascii: "-"):
                // A block scalar: the rest of this line is its header, the lines below its text.
                blockIndent = indent
                return nil
            default:
                break
            }
            if c != UInt8(ascii: " ") && c != UInt8(ascii: "\t") { lastSignificant = c }
            i += 1
        }
        return nil
    }

    private static func isFlowIndicator(_ c: UInt8) -> Bool {
        c == UInt8(ascii: "[") || c == UInt8(ascii: "{") || c == UInt8(ascii: ",")
    }

    private static func isNameCharacter(_ c: UInt8) -> Bool {
        c > 0x20 && c != 0x7F && !isFlowIndicator(c) && c != UInt8(ascii: "]") && c != UInt8(ascii: "}")
    }

    /// Virtual servers and real servers in a composed document, counted without reading them.
    static func counts(_ root: Node?) -> (virtualServers: Int, realServers: Int, largestService: Int) {
        guard let list = root?.mapping?["virtual_servers"]?.sequence else { return (0, 0, 0) }
        var total = 0
        var largest = 0
        for vs in list {
            let n = vs.mapping?["real_servers"]?.sequence?.count ?? 0
            total += n
            largest = max(largest, n)
        }
        return (list.count, total, largest)
    }
}
