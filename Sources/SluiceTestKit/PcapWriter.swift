// Classic libpcap files (LINKTYPE_ETHERNET), so fixtures and test outputs can be opened with tcpdump,
// tshark or Wireshark. The classic format (not pcapng) because every tool reads it and it is 40 lines
// to write. Timestamps are synthetic and deterministic (frame i at `start` + i µs), so a golden file
// written twice is byte-identical.

import Foundation

/// Writes frames as a classic pcap file (little-endian, microsecond timestamps, Ethernet).
public enum PcapWriter {
    /// LINKTYPE_ETHERNET.
    public static let linkTypeEthernet: UInt32 = 1

    /// The pcap file's bytes.
    public static func data(_ frames: [[UInt8]], snapLength: UInt32 = 65535, start: UInt32 = 1_700_000_000) -> [UInt8] {
        var out: [UInt8] = []
        appendLE32(0xA1B2_C3D4, to: &out)
        appendLE16(2, to: &out)
        appendLE16(4, to: &out)
        appendLE32(0, to: &out)  // thiszone
        appendLE32(0, to: &out)  // sigfigs
        appendLE32(snapLength, to: &out)
        appendLE32(linkTypeEthernet, to: &out)
        for (i, frame) in frames.enumerated() {
            let captured = min(frame.count, Int(snapLength))
            appendLE32(start + UInt32(i / 1_000_000), to: &out)
            appendLE32(UInt32(i % 1_000_000), to: &out)
            appendLE32(UInt32(captured), to: &out)
            appendLE32(UInt32(frame.count), to: &out)
            out += frame[0..<captured]
        }
        return out
    }

    /// Writes the frames to `path` as a pcap file, replacing it.
    public static func write(_ frames: [[UInt8]], to path: String) throws {
        try Data(data(frames)).write(to: URL(fileURLWithPath: path))
    }

    static func appendLE16(_ v: UInt16, to a: inout [UInt8]) {
        a += [UInt8(v & 0xFF), UInt8(v >> 8)]
    }

    static func appendLE32(_ v: UInt32, to a: inout [UInt8]) {
        a += [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)]
    }
}
