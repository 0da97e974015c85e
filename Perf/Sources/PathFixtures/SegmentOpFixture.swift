// The pure SluicePacket side of client-address insertion (issue 4): one RS-leg TCP segment, as the
// data plane has just rewritten it (LIP:lport → RS:8080, Linux's NOP NOP timestamps), parsed once,
// and one operation applied to it per step:
//
//   toa-ack         `TOA.insert` into the handshake-completing ACK (66 bytes, no payload)
//   toa-data        `TOA.insert` into the first data segment (512 bytes of payload, which moves by 8)
//   proxy-v1-data   `ProxyHeaderInsertion` v1 ("PROXY TCP4 10.210.1.2 10.210.9.10 40001 80\r\n", 44 B)
//   proxy-v2-data   v2 TCP4, 28 bytes
//   proxy-v2-tlv-data  v2 TCP4 with UNIQUE_ID and CRC32C TLVs, 46 bytes
//
// A step restores the frame (memcpy into a uniquely referenced chunk buffer) and the parse result
// (a plain value copy), then runs the operation. The parse is not part of the step: the data plane
// has it already when it inserts. Set-up runs the operation once and checks the result with
// SluiceTestKit's FrameChecker (its own checksum code) and by parsing it again.

import SluicePacket
import SluiceTestKit

/// A parsed RS-leg segment and the client-address operation to apply to it.
public struct SegmentOpFixture: Sendable {
    /// The operations measured.
    public enum Operation: String, Sendable, CaseIterable {
        case toaACK = "toa-ack"
        case toaData = "toa-data"
        case proxyV1Data = "proxy-v1-data"
        case proxyV2Data = "proxy-v2-data"
        case proxyV2TLVData = "proxy-v2-tlv-data"
    }

    /// Payload of the data segments.
    public static let payloadLength = 512
    /// The local port of the connection the segment belongs to (any: nothing is looked up).
    public static let localPort: UInt16 = 1_025

    public let operation: Operation
    public let pristine: [UInt8]
    public let pristineInfo: PacketInfo
    /// Bytes the operation adds.
    public let growth: Int

    /// Builds and parses the segment, applies the operation once and checks the result.
    public init(_ operation: Operation) throws(PathWorld.Failure) {
        self.operation = operation
        let payload: [UInt8] =
            operation == .toaACK ? [] : (0..<Self.payloadLength).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let segment = PacketBuilder()
            .ethernet(src: PathWorld.internalMAC, dst: PathWorld.realServerMAC)
            .ipv4(src: PathWorld.local, dst: PathWorld.realServer, ttl: 63)
            .tcp(
                sport: Self.localPort, dport: PathWorld.realPort, seq: 0x2000_0001, ack: PathWorld.realServerISN &+ 1,
                flags: payload.isEmpty ? TCPFlag.ack : TCPFlag.psh | TCPFlag.ack, window: 502,
                options: [.nop, .nop, .timestamps(val: 100_000, ecr: 200_000)], payload: payload
            )
            .build()
        var info = PacketInfo()
        if let reason = PacketParser.parse(segment.span, length: segment.count, into: &info) {
            throw PathWorld.Failure("\(operation.rawValue): segment does not parse: \(reason)")
        }
        pristine = segment
        pristineInfo = info
        growth =
            switch operation {
            case .toaACK, .toaData: TOA.lengthV4
            case .proxyV1Data:
                ProxyProtocolV1.length(
                    source: PathWorld.client, sourcePort: PathWorld.clientPort, destination: PathWorld.vip,
                    destinationPort: PathWorld.plainPort)
            case .proxyV2Data: ProxyProtocolV2.length(v6: false, uniqueID: nil, crc32c: false)
            case .proxyV2TLVData: ProxyProtocolV2.length(v6: false, uniqueID: 1, crc32c: true)
            }
        var buffer = PathWorld.makeBuffer()
        guard step(&buffer) else { throw PathWorld.Failure("\(operation.rawValue): the operation failed") }
        let out = Array(buffer[0..<(pristine.count + growth)])
        if let problem = FrameChecker.problem(out) { throw PathWorld.Failure("\(operation.rawValue): \(problem)") }
        var again = PacketInfo()
        if let reason = PacketParser.parse(out.span, length: out.count, into: &again) {
            throw PathWorld.Failure("\(operation.rawValue): result does not parse: \(reason)")
        }
        let ok: Bool
        switch operation {
        case .toaACK, .toaData:
            ok =
                out[54] == TOA.defaultKind && out[55] == 8 && PathWorld.be16(out, 56) == PathWorld.clientPort
                && PathWorld.be32(out, 58) == PathWorld.client.v4 && again.payloadLength == payload.count
        case .proxyV1Data, .proxyV2Data, .proxyV2TLVData:
            var header = ProxyProtocolHeader()
            let detection = ProxyProtocol.parse(out.span, from: again.payloadOffset, count: growth, into: &header)
            ok =
                (detection == .v1(length: growth) || detection == .v2(length: growth))
                && header.version == (operation == .proxyV1Data ? 1 : 2) && header.source == PathWorld.client
                && header.sourcePort == PathWorld.clientPort && header.destination == PathWorld.vip
                && again.payloadLength == payload.count + growth
        }
        guard ok, Array(out[(out.count - payload.count)...]) == payload else {
            throw PathWorld.Failure("\(operation.rawValue): inserted bytes or payload wrong")
        }
        if operation == .proxyV1Data { try Self.checkOddShift(segment, info: info) }
    }

    /// The measured v1 line is 44 bytes (even); a client port of 4 digits makes it 43, and the payload
    /// then moves to an odd offset, the other branch of the checksum update. Checked here once.
    static func checkOddShift(_ segment: [UInt8], info pristineInfo: PacketInfo) throws(PathWorld.Failure) {
        var buffer = PathWorld.makeBuffer()
        buffer.replaceSubrange(0..<segment.count, with: segment)
        var info = pristineInfo
        var length = segment.count
        var frame = buffer.mutableSpan
        let n = ProxyHeaderInsertion.insert(
            .v1, into: &frame, length: &length, info: &info, source: PathWorld.client, sourcePort: 4_000,
            destination: PathWorld.vip, destinationPort: PathWorld.plainPort, mtu: 1500)
        _ = consume frame
        guard n == 43, length == segment.count + 43 else {
            throw PathWorld.Failure("proxy-v1 odd-length check: inserted \(n) bytes, expected 43")
        }
        if let problem = FrameChecker.problem(Array(buffer[0..<length])) {
            throw PathWorld.Failure("proxy-v1 odd-length check: \(problem)")
        }
    }

    /// Only the restores of a step (frame and parse result), for measuring the harness's share.
    @inlinable
    public func restore(_ buffer: inout [UInt8]) -> Int {
        buffer.replaceSubrange(0..<pristine.count, with: pristine)
        let info = pristineInfo
        return info.ipEnd > 0 ? pristine.count : 0
    }

    /// Restores the segment and its parse, and applies the operation; true when it did what the
    /// set-up checked (inserted, nothing pruned).
    @inlinable
    public func step(_ buffer: inout [UInt8]) -> Bool {
        buffer.replaceSubrange(0..<pristine.count, with: pristine)
        var info = pristineInfo
        var length = pristine.count
        var frame = buffer.mutableSpan
        switch operation {
        case .toaACK, .toaData:
            return TOA.insert(
                into: &frame, length: &length, info: &info, port: PathWorld.clientPort, address: PathWorld.client,
                mtu: 1500) == .inserted
        case .proxyV1Data:
            return ProxyHeaderInsertion.insert(
                .v1, into: &frame, length: &length, info: &info, source: PathWorld.client,
                sourcePort: PathWorld.clientPort, destination: PathWorld.vip, destinationPort: PathWorld.plainPort,
                mtu: 1500) == growth
        case .proxyV2Data:
            return ProxyHeaderInsertion.insert(
                .v2(uniqueID: nil, crc32c: false), into: &frame, length: &length, info: &info,
                source: PathWorld.client, sourcePort: PathWorld.clientPort, destination: PathWorld.vip,
                destinationPort: PathWorld.plainPort, mtu: 1500) == growth
        case .proxyV2TLVData:
            return ProxyHeaderInsertion.insert(
                .v2(uniqueID: 0x0000_0000_0001_0001, crc32c: true), into: &frame, length: &length, info: &info,
                source: PathWorld.client, sourcePort: PathWorld.clientPort, destination: PathWorld.vip,
                destinationPort: PathWorld.plainPort, mtu: 1500) == growth
        }
    }
}
