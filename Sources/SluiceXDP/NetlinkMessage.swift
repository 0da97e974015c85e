// One rtnetlink message and the byte-level reading and writing around it. A datagram from the kernel
// holds one or more messages (nlmsghdr + payload, each padded to 4 bytes); a payload is a fixed header
// (ifinfomsg, rtmsg, ndmsg) followed by type-length-value attributes, also padded to 4 bytes.
//
// Everything here is bounds-checked and returns nil (or stops) on a short or inconsistent length instead of
// trapping: the bytes come from the kernel, but a parser that can be crashed by a truncated buffer is a
// parser a fuzzer or a kernel change will crash. Header fields are in host byte order (netlink is
// host-endian); addresses inside attributes are in network byte order.

import SluiceCore
import SluicePacket

/// One netlink message: its header fields and a view of its payload.
struct NetlinkMessage: Sendable, Equatable {
    var type: UInt16
    var flags: UInt16
    var sequence: UInt32
    var portID: UInt32
    /// The bytes after the 16-byte header, up to the header's length (without padding).
    var payload: ArraySlice<UInt8>

    /// The messages of one datagram, in order, and whether the datagram ended in bytes that do not form
    /// a message (a header that claims more bytes than remain, or less than a header).
    static func split(_ datagram: ArraySlice<UInt8>) -> (messages: [NetlinkMessage], malformed: Bool) {
        var messages: [NetlinkMessage] = []
        let reader = NetlinkReader(datagram)
        var offset = 0
        while offset < datagram.count {
            guard let length = reader.u32(at: offset).map(Int.init), length >= Netlink.headerSize,
                length <= datagram.count - offset, let type = reader.u16(at: offset + 4),
                let flags = reader.u16(at: offset + 6), let sequence = reader.u32(at: offset + 8),
                let portID = reader.u32(at: offset + 12)
            else { return (messages, true) }
            let start = datagram.startIndex + offset
            messages.append(
                NetlinkMessage(
                    type: type, flags: flags, sequence: sequence, portID: portID,
                    payload: datagram[(start + Netlink.headerSize)..<(start + length)]))
            offset += Netlink.align(length)
        }
        return (messages, false)
    }

    /// For an NLMSG_ERROR message: the error as a positive errno, 0 for an acknowledgement. Nil for other
    /// types or a payload too short to hold the code.
    var errorCode: Int32? {
        guard type == Netlink.typeError, let code = NetlinkReader(payload).i32(at: 0) else { return nil }
        return code == Int32.min ? Int32.max : -code
    }

    /// Encodes a request: header, then the fixed-size body, then attributes (each padded).
    static func encode(
        type: UInt16, flags: UInt16, sequence: UInt32, body: [UInt8], attributes: [(UInt16, [UInt8])] = []
    ) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Netlink.headerSize)
        bytes += body
        bytes += [UInt8](repeating: 0, count: Netlink.align(bytes.count) - bytes.count)
        for (attributeType, value) in attributes {
            let length = 4 + value.count
            bytes += NetlinkWriter.u16(UInt16(length)) + NetlinkWriter.u16(attributeType) + value
            bytes += [UInt8](repeating: 0, count: Netlink.align(length) - length)
        }
        NetlinkWriter.set(UInt32(bytes.count), in: &bytes, at: 0)
        NetlinkWriter.set(type, in: &bytes, at: 4)
        NetlinkWriter.set(flags, in: &bytes, at: 6)
        NetlinkWriter.set(sequence, in: &bytes, at: 8)
        return bytes
    }
}

/// The attributes (rtattr / nlattr) of a payload region, in order. Iteration stops at the first attribute
/// whose length is shorter than its header or longer than what remains.
struct NetlinkAttributes: Sequence {
    let bytes: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }

    /// The attributes that follow a fixed-size header of `headerSize` bytes in `payload` (empty when the
    /// payload is shorter than that).
    init(in payload: ArraySlice<UInt8>, after headerSize: Int) {
        let start = payload.startIndex + Swift.min(Netlink.align(headerSize), payload.count)
        bytes = payload[start...]
    }

    struct Iterator: IteratorProtocol {
        let bytes: ArraySlice<UInt8>
        var offset = 0

        mutating func next() -> (type: UInt16, value: ArraySlice<UInt8>)? {
            let reader = NetlinkReader(bytes)
            guard let length = reader.u16(at: offset).map(Int.init), let type = reader.u16(at: offset + 2),
                length >= 4, length <= bytes.count - offset
            else { return nil }
            let start = bytes.startIndex + offset
            offset += Netlink.align(length)
            // The top two bits are NLA_F_NESTED and NLA_F_NET_BYTEORDER, not part of the type.
            return (type & 0x3FFF, bytes[(start + 4)..<(start + length)])
        }
    }

    func makeIterator() -> Iterator { Iterator(bytes: bytes) }
}

/// Bounds-checked host-order reads at offsets relative to the start of a slice.
struct NetlinkReader {
    let bytes: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }

    func u8(at offset: Int) -> UInt8? {
        guard offset >= 0, offset < bytes.count else { return nil }
        return bytes[bytes.startIndex + offset]
    }

    func u16(at offset: Int) -> UInt16? {
        guard offset >= 0, offset + 2 <= bytes.count else { return nil }
        let i = bytes.startIndex + offset
        return UInt16(littleEndian: UInt16(bytes[i]) | UInt16(bytes[i + 1]) << 8)
    }

    func u32(at offset: Int) -> UInt32? {
        guard offset >= 0, offset + 4 <= bytes.count else { return nil }
        let i = bytes.startIndex + offset
        let value =
            UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24
        return UInt32(littleEndian: value)
    }

    func i32(at offset: Int) -> Int32? { u32(at: offset).map { Int32(bitPattern: $0) } }

    /// A 4-byte (IPv4) or 16-byte (IPv6) address in network order, only when exactly that long.
    static func address(_ value: ArraySlice<UInt8>, v6: Bool) -> IPAddress? {
        let i = value.startIndex
        if !v6 {
            guard value.count == 4 else { return nil }
            return IPAddress(
                v4: UInt32(value[i]) << 24 | UInt32(value[i + 1]) << 16 | UInt32(value[i + 2]) << 8
                    | UInt32(value[i + 3]))
        }
        guard value.count == 16 else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for k in 0..<8 {
            high = high << 8 | UInt64(value[i + k])
            low = low << 8 | UInt64(value[i + 8 + k])
        }
        return IPAddress(v6High: high, low: low)
    }

    /// A 6-byte link-layer address; nil for any other length (tunnels, loopback-less devices).
    static func mac(_ value: ArraySlice<UInt8>) -> MACAddress? {
        guard value.count == 6 else { return nil }
        let i = value.startIndex
        return MACAddress(value[i], value[i + 1], value[i + 2], value[i + 3], value[i + 4], value[i + 5])
    }
}

/// Host-order and network-order writes for request encoding.
enum NetlinkWriter {
    static func u16(_ value: UInt16) -> [UInt8] {
        let v = value.littleEndian
        return [UInt8(truncatingIfNeeded: v), UInt8(truncatingIfNeeded: v >> 8)]
    }

    static func u32(_ value: UInt32) -> [UInt8] {
        let v = value.littleEndian
        return (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * UInt32($0))) }
    }

    static func set(_ value: UInt16, in bytes: inout [UInt8], at offset: Int) {
        bytes.replaceSubrange(offset..<(offset + 2), with: u16(value))
    }

    static func set(_ value: UInt32, in bytes: inout [UInt8], at offset: Int) {
        bytes.replaceSubrange(offset..<(offset + 4), with: u32(value))
    }

    /// An address in network order: 4 bytes for IPv4, 16 for IPv6.
    static func address(_ address: IPAddress) -> [UInt8] {
        if !address.isV6 { return (0..<4).map { UInt8(truncatingIfNeeded: address.v4 >> (24 - 8 * UInt32($0))) } }
        let high = (0..<8).map { UInt8(truncatingIfNeeded: address.high >> (56 - 8 * UInt64($0))) }
        return high + (0..<8).map { UInt8(truncatingIfNeeded: address.low >> (56 - 8 * UInt64($0))) }
    }
}
