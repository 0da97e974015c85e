// Reading classic pcap files back (golden-file tests): either byte order, microsecond or nanosecond
// magic, any link type reported but frames returned as raw bytes. pcapng is not supported; convert
// with `editcap -F pcap`.

import Foundation

/// A problem reading a pcap file.
public struct PcapError: Error, Equatable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }
}

/// Reads classic pcap files.
public enum PcapReader {
    /// The frames (captured bytes) of a pcap file's contents.
    /// - Throws: `PcapError` for a bad magic number or a truncated record.
    public static func frames(_ bytes: [UInt8]) throws -> [[UInt8]] {
        guard bytes.count >= 24 else { throw PcapError("shorter than a pcap header") }
        let magicLE = le32(bytes, 0)
        let littleEndian: Bool
        switch magicLE {
        case 0xA1B2_C3D4, 0xA1B2_3C4D: littleEndian = true
        case 0xD4C3_B2A1, 0x4D3C_B2A1: littleEndian = false
        default: throw PcapError("not a classic pcap file (magic \(String(magicLE, radix: 16)))")
        }
        func u32(_ o: Int) -> UInt32 { littleEndian ? le32(bytes, o) : le32(bytes, o).byteSwapped }
        var frames: [[UInt8]] = []
        var o = 24
        while o < bytes.count {
            guard o + 16 <= bytes.count else { throw PcapError("truncated record header at \(o)") }
            let captured = Int(u32(o + 8))
            o += 16
            guard captured <= bytes.count - o else { throw PcapError("truncated record at \(o)") }
            frames.append(Array(bytes[o..<(o + captured)]))
            o += captured
        }
        return frames
    }

    /// The frames of the pcap file at `path`.
    public static func read(_ path: String) throws -> [[UInt8]] {
        try frames([UInt8](Data(contentsOf: URL(fileURLWithPath: path))))
    }

    static func le32(_ b: [UInt8], _ o: Int) -> UInt32 {
        UInt32(b[o]) | UInt32(b[o + 1]) << 8 | UInt32(b[o + 2]) << 16 | UInt32(b[o + 3]) << 24
    }
}
