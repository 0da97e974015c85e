// IP fragmentation and reassembly for tests (RFC 791 §3.2, RFC 8200 §4.5), written apart from the data
// plane: tests cut a builder-made datagram into fragments, run them through Sluice, put what comes
// out back together and check the whole datagram's transport checksum with FrameChecker, so that an
// incremental update that is right for one fragment but wrong for the datagram cannot pass.
//
// Test-only code: it allocates freely and handles untagged Ethernet frames whose IPv6 datagrams carry
// no extension headers (the builder's plain frames).

/// Splits frames into IP fragments and puts fragments back together.
public enum Fragmenter {
    /// The fragments of the datagram in `frame`, each carrying at most `chunk` bytes of the datagram's
    /// payload (rounded down to a multiple of 8; the last carries the rest), with identification
    /// `identification` (IPv4 uses its low 16 bits). IPv4 fragments copy the header, set MF and the
    /// offset and are re-signed; IPv6 fragments get a fragment header after the fixed header.
    public static func fragments(of frame: [UInt8], chunk: Int, identification: UInt32) -> [[UInt8]] {
        let ethernet = Array(frame[0..<14])
        let v6 = frame[12] == 0x86 && frame[13] == 0xDD
        let headerLength = v6 ? 40 : Int(frame[14] & 0x0F) * 4
        let total = v6 ? 40 + Int(be16(frame, 18)) : Int(be16(frame, 16))
        let header = Array(frame[14..<(14 + headerLength)])
        let payload = Array(frame[(14 + headerLength)..<(14 + total)])
        let step = max(8, chunk / 8 * 8)
        var out: [[UInt8]] = []
        var offset = 0
        while offset < payload.count {
            let end = min(offset + step, payload.count)
            let more = end < payload.count
            let piece = Array(payload[offset..<end])
            var ip = header
            if v6 {
                let next = ip[6]
                ip[6] = 44
                put16(&ip, 4, UInt16(8 + piece.count))
                var fragmentHeader: [UInt8] = [next, 0]
                fragmentHeader += split16(UInt16(offset / 8) << 3 | (more ? 1 : 0))
                fragmentHeader += split32(identification)
                ip += fragmentHeader
            } else {
                put16(&ip, 2, UInt16(headerLength + piece.count))
                put16(&ip, 4, UInt16(truncatingIfNeeded: identification))
                put16(&ip, 6, (more ? 0x2000 : 0) | UInt16(offset / 8))
                sign(&ip)
            }
            out.append(ethernet + ip + piece)
            offset = end
        }
        return out
    }

    /// The whole frame the fragments of one datagram make, whatever their order: the first fragment's
    /// Ethernet and IP headers (IPv6: without the fragment header), the payload in offset order. Nil when
    /// a fragment is missing, they overlap, or they do not agree on addresses, protocol and
    /// identification.
    public static func reassemble(_ fragments: [[UInt8]]) -> [UInt8]? {
        guard let sample = fragments.first, sample.count >= 14 + 20 else { return nil }
        let v6 = sample[12] == 0x86 && sample[13] == 0xDD
        var pieces: [(offset: Int, more: Bool, bytes: [UInt8], frame: [UInt8])] = []
        var identity: [UInt8]?
        for f in fragments {
            guard let parsed = piece(f, v6: v6) else { return nil }
            guard identity == nil || identity == parsed.identity else { return nil }
            identity = parsed.identity
            pieces.append((parsed.offset, parsed.more, parsed.bytes, f))
        }
        pieces.sort { $0.offset < $1.offset }
        var payload: [UInt8] = []
        for p in pieces {
            guard p.offset == payload.count else { return nil }
            payload += p.bytes
        }
        guard let last = pieces.last, !last.more, let first = pieces.first, first.offset == 0 else { return nil }
        let ethernet = Array(first.frame[0..<14])
        if v6 {
            var ip = Array(first.frame[14..<54])
            ip[6] = first.frame[54]
            put16(&ip, 4, UInt16(payload.count))
            return ethernet + ip + payload
        }
        let headerLength = Int(first.frame[14] & 0x0F) * 4
        var ip = Array(first.frame[14..<(14 + headerLength)])
        put16(&ip, 2, UInt16(headerLength + payload.count))
        put16(&ip, 6, be16(ip, 6) & 0x4000)
        sign(&ip)
        return ethernet + ip + payload
    }

    /// A fragment's offset, MF flag, payload, and the bytes that must agree across its datagram.
    static func piece(_ f: [UInt8], v6: Bool) -> (offset: Int, more: Bool, bytes: [UInt8], identity: [UInt8])? {
        if v6 {
            guard f.count >= 14 + 48, f[20] == 44 else { return nil }
            let end = 14 + 40 + Int(be16(f, 18))
            guard end <= f.count else { return nil }
            let field = be16(f, 56)
            let identity = Array(f[22..<54]) + [f[54]] + Array(f[58..<62])
            return (Int(field >> 3) * 8, field & 1 != 0, Array(f[62..<end]), identity)
        }
        let headerLength = Int(f[14] & 0x0F) * 4
        let end = 14 + Int(be16(f, 16))
        guard headerLength >= 20, end <= f.count, 14 + headerLength <= end else { return nil }
        let field = be16(f, 20)
        let identity = Array(f[18..<20]) + [f[23]] + Array(f[26..<34])
        return (Int(field & 0x1FFF) * 8, field & 0x2000 != 0, Array(f[(14 + headerLength)..<end]), identity)
    }

    static func be16(_ b: [UInt8], _ o: Int) -> UInt16 { UInt16(b[o]) << 8 | UInt16(b[o + 1]) }

    static func split16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xFF)] }

    static func split32(_ v: UInt32) -> [UInt8] { split16(UInt16(v >> 16)) + split16(UInt16(v & 0xFFFF)) }

    static func put16(_ b: inout [UInt8], _ o: Int, _ v: UInt16) {
        b[o] = UInt8(v >> 8)
        b[o + 1] = UInt8(v & 0xFF)
    }

    /// Recomputes an IPv4 header's checksum (PacketBuilder's sum, independent of SluicePacket).
    static func sign(_ header: inout [UInt8]) {
        put16(&header, 10, 0)
        put16(&header, 10, ~PacketBuilder.fold(PacketBuilder.onesComplementSum(header)))
    }
}
