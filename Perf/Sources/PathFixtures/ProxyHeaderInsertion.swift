// PROXY header insertion into a TCP segment without a data plane around it: the header's length,
// the room check (MTU, buffer), and the insertion itself through `TCPPayloadPrefix.insert`, the function
// the data plane uses, so the pure-packet benchmarks measure the gateway's own code. No sequence-number
// shifting: the first segment keeps its sequence number, later ones move. The result is checked against
// FrameChecker (independent checksum code) at set-up.

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
        guard info.l4Protocol == 6, info.ipEnd &+ n <= min(frame.count, info.l3Offset &+ mtu) else { return 0 }
        let inserted = TCPPayloadPrefix.insert(count: n, into: &frame, length: &length, info: info) { frame, at in
            switch version {
            case .v1:
                return ProxyProtocolV1.write(
                    into: &frame, at: at, source: source, sourcePort: sourcePort, destination: destination,
                    destinationPort: destinationPort)
            case .v2(let uniqueID, let crc32c):
                return ProxyProtocolV2.write(
                    into: &frame, at: at, source: source, sourcePort: sourcePort, destination: destination,
                    destinationPort: destinationPort, uniqueID: uniqueID, crc32c: crc32c)
            }
        }
        precondition(inserted, "PROXY header length mismatch")
        info.ipEnd &+= n
        info.payloadLength &+= n
        return n
    }
}
