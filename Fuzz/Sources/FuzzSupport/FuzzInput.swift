// Reads a fuzz input as a sequence of values, so one byte string drives several frames: every read past
// the end gives zeros, so no input is too short to mean something.

/// A cursor over a fuzz input.
public struct FuzzInput {
    public let bytes: [UInt8]
    public private(set) var offset = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var isAtEnd: Bool { offset >= bytes.count }

    public mutating func byte() -> UInt8 {
        defer { offset += 1 }
        return offset < bytes.count ? bytes[offset] : 0
    }

    public mutating func u16() -> UInt16 { UInt16(byte()) << 8 | UInt16(byte()) }

    /// Up to `count` bytes (fewer at the end).
    public mutating func take(_ count: Int) -> ArraySlice<UInt8> {
        let start = min(offset, bytes.count)
        let end = min(start + max(count, 0), bytes.count)
        offset = end
        return bytes[start..<end]
    }
}
