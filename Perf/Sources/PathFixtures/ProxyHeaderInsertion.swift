// PROXY header insertion into a TCP segment, as SluicePacket pieces compose it: make room at the
// start of the payload (`MutableSpan.moveBytes`), write the header there (`ProxyProtocolV1.write` /
// `ProxyProtocolV2.write`), fix the IPv4 total length (`rewrite16`, header checksum updated), and
// update the TCP checksum incrementally (RFC 1624; never a recomputation, DESIGN §4.6):
//
//   new = ~(~old + sum(header) + payload shift + ~oldTCPLength + newTCPLength)
//
// where "payload shift" is zero when the header length is even (the payload keeps its 16-bit word
// alignment) and, when it is odd (a v1 line can be), ~S + swap(S) with S the payload's sum: data
// moved to an odd offset contributes its bytes swapped (RFC 1071 §2(B)). Only then is the payload
// read.
//
// This is the benchmark's model of the per-packet work, written before the data plane had its own
// (issue 4); it covers what every implementation must do on the first data segment and nothing
// else (no sequence-number shifting: the first segment keeps its sequence number, later ones move).
// The result is checked against FrameChecker (independent checksum code) at set-up.

import SluicePacket

/// Inserting a PROXY v1 or v2 header in front of a segment's payload.
public enum ProxyHeaderInsertion {
    /// Which header to write.
    public enum Version: Sendable {
        case v1
        /// v2, with the UNIQUE_ID and CRC32C TLVs when asked.
        case v2(uniqueID: UInt64?, crc32c: Bool)
    }

    /// Inserts the header for `source`:`sourcePort` → `destination`:`destinationPort` at the start of
    /// the payload of the IPv4/IPv6 TCP segment described by `info`, growing the frame by its length.
    /// - Returns: the header length, or 0 (frame unchanged) when it does not fit (`mtu`, buffer).
    @inlinable
    public static func insert(
        _ version: Version, into frame: inout MutableSpan<UInt8>, length: inout Int, info: inout PacketInfo,
        source: IPAddress, sourcePort: UInt16, destination: IPAddress, destinationPort: UInt16, mtu: Int
    ) -> Int {
        let n: Int
        switch version {
        case .v1:
            n = ProxyProtocolV1.length(
                source: source, sourcePort: sourcePort, destination: destination, destinationPort: destinationPort)
        case .v2(let uniqueID, let crc32c):
            n = ProxyProtocolV2.length(v6: source.isV6 || destination.isV6, uniqueID: uniqueID, crc32c: crc32c)
        }
        let l3 = info.l3Offset
        let l4 = info.l4Offset
        let start = info.payloadOffset
        let ipEnd = info.ipEnd
        guard info.l4Protocol == 6, ipEnd &+ n <= min(frame.count, l3 &+ mtu) else { return 0 }
        let payloadLength = ipEnd &- start
        let odd = n & 1 == 1
        let payloadSum: UInt16 =
            odd ? InternetChecksum.fold(InternetChecksum.sum(frame.span, from: start, count: payloadLength)) : 0
        let oldChecksum = frame.u16(l4 &+ 16)

        frame.moveBytes(from: start, to: start &+ n, count: payloadLength)
        let written: Int
        switch version {
        case .v1:
            written = ProxyProtocolV1.write(
                into: &frame, at: start, source: source, sourcePort: sourcePort, destination: destination,
                destinationPort: destinationPort)
        case .v2(let uniqueID, let crc32c):
            written = ProxyProtocolV2.write(
                into: &frame, at: start, source: source, sourcePort: sourcePort, destination: destination,
                destinationPort: destinationPort, uniqueID: uniqueID, crc32c: crc32c)
        }
        precondition(written == n, "PROXY header length mismatch")

        // The payload starts at an even offset of the TCP header (its length is a multiple of 4).
        var acc = UInt64(~oldChecksum) &+ InternetChecksum.sum(frame.span, from: start, count: n)
        if odd { acc &+= UInt64(~payloadSum) &+ UInt64(payloadSum.byteSwapped) }
        let oldTCPLength = UInt64(ipEnd &- l4)
        acc &+= UInt64(~UInt16(truncatingIfNeeded: oldTCPLength)) &+ (oldTCPLength &+ UInt64(n))
        frame.set16(~InternetChecksum.fold(acc), at: l4 &+ 16)

        let newIPEnd = ipEnd &+ n
        if info.isV6 {
            frame.set16(UInt16(truncatingIfNeeded: newIPEnd &- l3 &- 40), at: l3 &+ 4)
        } else {
            frame.rewrite16(
                UInt16(truncatingIfNeeded: newIPEnd &- l3), at: l3 &+ 2, checksumAt: l3 &+ 10, dataStart: l3)
        }
        length = newIPEnd
        info.ipEnd = newIPEnd
        info.payloadLength = payloadLength &+ n
        return n
    }
}
