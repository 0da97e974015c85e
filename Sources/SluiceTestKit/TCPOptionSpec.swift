// TCP options for PacketBuilder, encoded in the order given (RFC 9293 §3.2, RFC 7323, RFC 2018).

/// One TCP option to put in a built segment.
public enum TCPOptionSpec: Sendable {
    /// Maximum segment size (kind 2, length 4).
    case mss(UInt16)
    /// Window scale shift (kind 3, length 3).
    case windowScale(UInt8)
    /// SACK permitted (kind 4, length 2).
    case sackPermitted
    /// Timestamps (kind 8, length 10).
    case timestamps(val: UInt32, ecr: UInt32)
    /// SACK blocks (kind 5, length 2 + 8n), each (left edge, right edge).
    case sack([(UInt32, UInt32)])
    /// No-operation (kind 1).
    case nop
    /// End of option list (kind 0).
    case eol
    /// Any option: kind, length 2 + bytes.count, bytes.
    case raw(kind: UInt8, bytes: [UInt8])
    /// Bytes inserted verbatim (for malformed options).
    case bytes([UInt8])

    /// The option's wire bytes.
    public var encoded: [UInt8] {
        func be32(_ v: UInt32) -> [UInt8] {
            [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
        }
        switch self {
        case .mss(let v): return [2, 4, UInt8(v >> 8), UInt8(v & 0xFF)]
        case .windowScale(let v): return [3, 3, v]
        case .sackPermitted: return [4, 2]
        case .timestamps(let val, let ecr): return [8, 10] + be32(val) + be32(ecr)
        case .sack(let blocks): return [5, UInt8(2 + 8 * blocks.count)] + blocks.flatMap { be32($0.0) + be32($0.1) }
        case .nop: return [1]
        case .eol: return [0]
        case .raw(let kind, let bytes): return [kind, UInt8(2 + bytes.count)] + bytes
        case .bytes(let bytes): return bytes
        }
    }
}
