// Where sluicectl's output goes: listings and JSON to stdout, complaints to stderr prefixed with the
// program's name, so `sluicectl list | ...` pipes only the listing.

import Foundation

enum Output {
    /// Text that already ends in a newline (the listings do).
    static func text(_ text: String) {
        print(text, terminator: "")
    }

    /// The API's answer as JSON, pretty-printed with sorted keys so that two calls diff cleanly.
    static func json<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    /// `sluicectl: message` on stderr.
    static func error(_ message: String) {
        FileHandle.standardError.write(Data("sluicectl: \(message)\n".utf8))
    }

    /// A line that belongs to the error line before it, unprefixed (a list under the message).
    static func errorDetail(_ line: String) {
        FileHandle.standardError.write(Data("\(line)\n".utf8))
    }
}
