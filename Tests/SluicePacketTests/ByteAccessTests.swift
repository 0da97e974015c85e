import SluicePacket
import Testing

@Suite struct ByteAccessTests {
    @Test func readsBigEndian() {
        let bytes: [UInt8] = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09]
        let s = bytes.span
        #expect(s.u8(0) == 1)
        #expect(s.u16(1) == 0x0203)
        #expect(s.u32(1) == 0x0203_0405)
        #expect(s.u64(1) == 0x0203_0405_0607_0809)
        #expect(s.ipv4Address(0) == IPAddress(v4: 0x0102_0304))
    }

    @Test func writesBigEndianAndAddresses() {
        var bytes = [UInt8](repeating: 0, count: 32)
        var m = bytes.mutableSpan
        m.set8(0xAA, at: 0)
        m.set16(0xBBCC, at: 1)
        m.set32(0x1122_3344, at: 3)
        #expect(m.u8(0) == 0xAA && m.u16(1) == 0xBBCC && m.u32(3) == 0x1122_3344)
        let v6 = IPAddress(v6High: 0x2001_0DB8_0000_0001, low: 0x0203_0405_0607_0809)
        m.setAddress(v6, at: 8)
        #expect(m.ipv6Address(8) == v6)
        m.setAddress(IPAddress(v4: 0xC000_0201), at: 24)
        #expect(m.ipv4Address(24) == IPAddress(v4: 0xC000_0201))
        #expect(m.u8(28) == 0)
        #expect(bytes[1] == 0xBB && bytes[2] == 0xCC && bytes[24] == 0xC0 && bytes[27] == 0x01)
    }

    @Test(arguments: [(0, 5, 10), (5, 0, 10), (3, 4, 12), (4, 3, 12), (2, 2, 8), (0, 19, 1), (7, 7, 0)])
    func moveBytesIsMemmove(from: Int, to: Int, count: Int) {
        let original = (0..<20).map { UInt8($0 + 100) }
        var expected = original
        expected.replaceSubrange(to..<(to + count), with: original[from..<(from + count)])
        var bytes = original
        var m = bytes.mutableSpan
        m.moveBytes(from: from, to: to, count: count)
        #expect(bytes == expected)
    }

    /// The word-wise move against a byte-by-byte reference: lengths around every step size (32, 16, 8,
    /// 4, 2, 1, odd ones included), overlapping both ways by less and more than a step, at odd starts.
    @Test func moveBytesMatchesByteMoveEverywhere() {
        let original = (0..<200).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        for count in [0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 23, 31, 32, 33, 47, 63, 64, 65, 95, 96, 97, 130] {
            for shift in [-70, -33, -32, -9, -8, -7, -3, -2, -1, 0, 1, 2, 3, 7, 8, 9, 31, 32, 33, 64, 69] {
                for from in [0, 1, 6, 35] {
                    let to = from + shift
                    guard to >= 0, from + count <= original.count, to + count <= original.count else { continue }
                    var expected = original
                    let moved = Array(original[from..<(from + count)])
                    for i in 0..<count { expected[to + i] = moved[i] }
                    var bytes = original
                    var m = bytes.mutableSpan
                    m.moveBytes(from: from, to: to, count: count)
                    #expect(bytes == expected, "from \(from) to \(to) count \(count)")
                }
            }
        }
    }

    @Test func copyBytesMatchesByteCopyAtEveryLength() {
        let source = (0..<160).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 5) }
        for count in 0...100 {
            for (sourceOffset, to) in [(0, 0), (1, 0), (3, 7), (50, 1)] {
                var bytes = [UInt8](repeating: 0xEE, count: 120)
                var expected = bytes
                for i in 0..<count { expected[to + i] = source[sourceOffset + i] }
                var m = bytes.mutableSpan
                m.copyBytes(from: source.span, sourceOffset: sourceOffset, to: to, count: count)
                #expect(bytes == expected, "from \(sourceOffset) to \(to) count \(count)")
            }
        }
    }

    @Test func copyBytesFromAnotherSpan() {
        let source: [UInt8] = [1, 2, 3, 4, 5]
        var bytes = [UInt8](repeating: 0, count: 6)
        var m = bytes.mutableSpan
        m.copyBytes(from: source.span, sourceOffset: 1, to: 2, count: 3)
        #expect(bytes == [0, 0, 2, 3, 4, 0])
    }

    @Test func ethernetAddresses() {
        var frame = [UInt8](repeating: 0, count: 14)
        var m = frame.mutableSpan
        let set = EthernetHeader.setAddresses(&m, destination: 0x0011_2233_4455, source: 0xAABB_CCDD_EEFF)
        #expect(set)
        #expect(Array(frame[0..<12]) == [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF])
        #expect(EthernetHeader.destination(frame.span) == 0x0011_2233_4455)
        #expect(EthernetHeader.source(frame.span) == 0xAABB_CCDD_EEFF)
        var m2 = frame.mutableSpan
        let swapped = EthernetHeader.swapAddresses(&m2)
        #expect(swapped)
        #expect(EthernetHeader.destination(frame.span) == 0xAABB_CCDD_EEFF)
        #expect(EthernetHeader.source(frame.span) == 0x0011_2233_4455)
    }
}
