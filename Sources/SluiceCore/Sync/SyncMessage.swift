// A connection-sync datagram (docs/sync.md): a 24-byte header, a payload, and a 64-bit SipHash-2-4
// tag over both under the group's 128-bit key. A datagram is at most `maximumSize` bytes, so it is
// never fragmented on a 1500-byte path.
//
//   0  "SLSY"   4  version   5  type   6  count (records or addresses)
//   8  epoch: the sender's run, its start in milliseconds since 1970
//  16  sequence: per run, from 1, one per datagram
//  24  payload: `count` records (SyncRecord, 112 bytes each) for `entries`; `count` addresses
//      (family byte + 16 bytes) for `heartbeat` (the sender's LIPs); nothing for the others
//  end tag (8 bytes)
//
// SipHash is a PRF built for short inputs, and a 64-bit tag with a 128-bit key makes a forgery an
// online guess with odds of 2^-64 per try. Replays are what `SyncReplayWindow` refuses.

import SluicePacket

/// A decoded, authenticated datagram.
public struct SyncMessage: Sendable, Equatable {
    public enum Kind: UInt8, Sendable {
        /// Connection events.
        case entries = 1
        /// "I am alive", with the sender's LIPs; sent when there is nothing else to send.
        case heartbeat = 2
        /// "Send me your whole table" (a gateway that starts).
        case bulkRequest = 3
        /// "I am stopping": take over my LIPs now rather than after `dead_after`.
        case leaving = 4
    }

    public var kind: Kind
    public var epoch: UInt64
    public var sequence: UInt64
    public var records: [SyncRecord]
    public var addresses: [IPAddress]

    public init(
        kind: Kind, epoch: UInt64, sequence: UInt64, records: [SyncRecord] = [], addresses: [IPAddress] = []
    ) {
        self.kind = kind
        self.epoch = epoch
        self.sequence = sequence
        self.records = records
        self.addresses = addresses
    }

    public static let version: UInt8 = 1
    public static let magic: [UInt8] = Array("SLSY".utf8)
    public static let headerSize = 24
    public static let tagSize = 8
    /// Largest datagram: fits a 1500-byte MTU with IPv6 and UDP headers to spare.
    public static let maximumSize = 1400
    static let addressSize = 17
    /// Records that fit one datagram.
    public static let recordsPerMessage = (maximumSize - headerSize - tagSize) / SyncRecord.encodedSize
    /// Addresses that fit one heartbeat.
    public static let addressesPerMessage = (maximumSize - headerSize - tagSize) / addressSize

    /// Why a datagram was refused.
    public enum Refusal: String, Error, Sendable, CaseIterable {
        case short, magic, version, kind, length, tag, record
    }

    /// The datagram, tagged with `key`. Records or addresses past what one datagram holds are not
    /// written (the sender splits them: `recordsPerMessage`).
    public func encode(key: (UInt64, UInt64)) -> [UInt8] {
        var out = Self.magic
        out.reserveCapacity(Self.maximumSize)
        out.append(Self.version)
        out.append(kind.rawValue)
        let count =
            kind == .entries
            ? min(records.count, Self.recordsPerMessage)
            : kind == .heartbeat ? min(addresses.count, Self.addressesPerMessage) : 0
        SyncRecord.put16(UInt16(count), &out)
        SyncRecord.put64(epoch, &out)
        SyncRecord.put64(sequence, &out)
        if kind == .entries {
            for record in records.prefix(count) { record.encode(into: &out) }
        } else if kind == .heartbeat {
            for address in addresses.prefix(count) {
                out.append(address.isV6 ? SyncRecord.ipv6Family : SyncRecord.ipv4Family)
                SyncRecord.put64(address.high, &out)
                SyncRecord.put64(address.low, &out)
            }
        }
        SyncRecord.put64(Self.tag(out, count: out.count, key: key), &out)
        return out
    }

    /// The message in `bytes` when its tag is right and it is well formed.
    public static func decode(_ bytes: [UInt8], key: (UInt64, UInt64)) -> Result<SyncMessage, Refusal> {
        guard bytes.count >= headerSize + tagSize, bytes.count <= maximumSize else { return .failure(.short) }
        guard Array(bytes[0..<4]) == magic else { return .failure(.magic) }
        // The tag first: nothing else of an unauthenticated datagram is worth believing.
        var r = SyncRecord.Reader(bytes: bytes, position: bytes.count - tagSize)
        guard r.u64() == tag(bytes, count: bytes.count - tagSize, key: key) else { return .failure(.tag) }
        guard bytes[4] == version else { return .failure(.version) }
        guard let kind = Kind(rawValue: bytes[5]) else { return .failure(.kind) }
        var h = SyncRecord.Reader(bytes: bytes, position: 6)
        let count = Int(h.u16())
        let epoch = h.u64()
        let sequence = h.u64()
        let payload = bytes.count - headerSize - tagSize
        var message = SyncMessage(kind: kind, epoch: epoch, sequence: sequence)
        switch kind {
        case .entries:
            guard payload == count * SyncRecord.encodedSize else { return .failure(.length) }
            for i in 0..<count {
                guard let record = SyncRecord.decode(bytes, at: headerSize + i * SyncRecord.encodedSize) else {
                    return .failure(.record)
                }
                message.records.append(record)
            }
        case .heartbeat:
            guard payload == count * addressSize else { return .failure(.length) }
            var a = SyncRecord.Reader(bytes: bytes, position: headerSize)
            for _ in 0..<count {
                let family = a.u8()
                let high = a.u64()
                let low = a.u64()
                switch family {
                case SyncRecord.ipv6Family: message.addresses.append(IPAddress(v6High: high, low: low))
                case SyncRecord.ipv4Family where high == 0 && low <= UInt64(UInt32.max):
                    message.addresses.append(IPAddress(v4: UInt32(low)))
                default: return .failure(.record)
                }
            }
        case .bulkRequest, .leaving:
            guard payload == 0 else { return .failure(.length) }
        }
        return .success(message)
    }

    /// SipHash-2-4 of the first `count` bytes, fed a little-endian word at a time (the same message as
    /// byte by byte, an eighth of the calls).
    static func tag(_ bytes: [UInt8], count: Int, key: (UInt64, UInt64)) -> UInt64 {
        var hash = SipHash24(k0: key.0, k1: key.1)
        var i = 0
        while i + 8 <= count {
            var word: UInt64 = 0
            for j in 0..<8 { word |= UInt64(bytes[i + j]) << (8 * UInt64(j)) }
            hash.combine(word)
            i += 8
        }
        while i < count {
            hash.combine(bytes[i])
            i += 1
        }
        return hash.finalize()
    }
}
