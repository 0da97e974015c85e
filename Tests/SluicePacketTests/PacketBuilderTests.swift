import SluicePacket
import SluiceTestKit
import Testing

@Suite struct PacketBuilderTests {
    @Test func ipv6ExtensionHeaderChain() {
        let frame = PacketBuilder().ipv6(
            src: "::1", dst: "::2",
            extensionHeaders: [
                .hopByHop(options: [5, 2, 0, 0]), .destinationOptions(options: [UInt8](repeating: 9, count: 7)),
                .fragment(),
            ]
        ).tcp(sport: 1, dport: 2).build()
        let l3 = 14
        #expect(frame[l3 + 6] == 0, "first next header: hop-by-hop")
        #expect(frame[l3 + 40] == 60 && frame[l3 + 41] == 0, "hop-by-hop: 8 bytes, then destination options")
        #expect(frame[l3 + 48] == 44 && frame[l3 + 49] == 1, "destination options: 16 bytes, then fragment")
        #expect(frame[l3 + 64] == 6, "fragment, then TCP")
        // PadN after the 2 + 7 option bytes: 16 − 9 = 7 bytes → PadN with 5 zero bytes.
        #expect(frame[l3 + 48 + 9] == 1 && frame[l3 + 48 + 10] == 5)
        #expect(frame.span.u16(l3 + 4) == 8 + 16 + 8 + 20)
    }

    @Test func tcpOptionsArePaddedToWords() {
        let frame = PacketBuilder().ipv4(src: "10.0.0.1", dst: "10.0.0.2").tcp(
            sport: 1, dport: 2, options: [.windowScale(3)]
        )
        .build()
        #expect(frame[14 + 20 + 12] == 6 << 4)
        #expect(Array(frame[(14 + 40)..<(14 + 44)]) == [3, 3, 3, 0])
    }

    @Test func ipv4OptionsAndFlags() {
        let frame = PacketBuilder().ipv4(
            src: "10.0.0.1", dst: "10.0.0.2", ttl: 5, options: [1, 1, 1], df: false, id: 0x1234, tos: 0x10
        ).udp(sport: 1, dport: 2).build()
        #expect(frame[14] == 0x46 && frame[15] == 0x10)
        #expect(frame.span.u16(18) == 0x1234 && frame.span.u16(20) == 0)
        #expect(frame[22] == 5)
        #expect(FrameChecker.checksumsValid(frame))
    }
}
