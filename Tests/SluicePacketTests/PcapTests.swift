import SluiceTestKit
import Testing

@Suite struct PcapTests {
    @Test func roundTrip() throws {
        let frames = Fixtures.all.map(\.frame)
        let data = PcapWriter.data(frames)
        #expect(Array(data.prefix(4)) == [0xD4, 0xC3, 0xB2, 0xA1])
        #expect(data[20] == 1, "LINKTYPE_ETHERNET")
        #expect(try PcapReader.frames(data) == frames)
    }

    @Test func snapLengthCutsFramesButKeepsOriginalLength() throws {
        let frame = [UInt8](repeating: 1, count: 100)
        let data = PcapWriter.data([frame], snapLength: 60)
        #expect(try PcapReader.frames(data) == [[UInt8](repeating: 1, count: 60)])
        #expect(data[24 + 12] == 100, "orig_len")
    }

    @Test func rejectsGarbage() {
        #expect(throws: PcapError.self) { try PcapReader.frames([1, 2, 3]) }
        #expect(throws: PcapError.self) { try PcapReader.frames([UInt8](repeating: 0, count: 24)) }
        let data = PcapWriter.data([[1, 2, 3, 4]])
        #expect(throws: PcapError.self) { try PcapReader.frames(Array(data.dropLast())) }
    }

    @Test func fileRoundTrip() throws {
        let path = "/tmp/sluice-pcap-test-\(UInt32.random(in: 0...UInt32.max)).pcap"
        let frames = Fixtures.all.map(\.frame)
        try PcapWriter.write(frames, to: path)
        #expect(try PcapReader.read(path) == frames)
    }
}
