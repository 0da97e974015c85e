// The BPF object is embedded in SluiceBPF as a base64 string literal (a string literal is far cheaper for
// the compiler than a byte-array literal). This decodes it once at start-up, without Foundation, over the
// string's UTF-8 view (no unsafe buffer access). RFC 4648 §4 alphabet; padding optional; whitespace
// skipped; any other character makes the input invalid.

/// A minimal RFC 4648 base64 decoder.
enum Base64 {
    /// The decoded bytes, or nil when `text` holds a character outside the alphabet or a stray bit count.
    static func decode(_ text: StaticString) -> [UInt8]? {
        decode(text.description)
    }

    /// The decoded bytes, or nil when `text` holds a character outside the alphabet or a stray bit count.
    static func decode(_ text: String) -> [UInt8]? {
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count / 4 * 3)
        var accumulator: UInt32 = 0
        var bits = 0
        var padding = 0
        for character in text.utf8 {
            if character == UInt8(ascii: "=") {
                padding += 1
                continue
            }
            if character == 0x20 || character == 0x0A || character == 0x0D || character == 0x09 { continue }
            guard padding == 0, let value = sextet(character) else { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        // A final group of 2 or 3 characters leaves 4 or 2 unused bits; 6 left over means one lone character.
        guard bits < 6, padding <= 2 else { return nil }
        return output
    }

    private static func sextet(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return character - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return character - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return character - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): return 62
        case UInt8(ascii: "/"): return 63
        default: return nil
        }
    }
}
