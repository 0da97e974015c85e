// The stateless SYN-ACK: for client SYNs with every option combination (MSS present/absent, window
// scale absent/0/7, SACK-permitted and timestamps on/off), IPv4 with and without IP options, IPv6
// with and without extension headers, with and without payload and VLAN tag, and with the gateway's
// SACK/timestamp switches on and off, the answer parses back with the expected fields and options and
// every checksum verifies. Refusals leave the frame untouched; prefixes and scrambled `PacketInfo`
// values never trap.

import SluicePacket
import SluiceTestKit
import Testing

/// One client SYN to answer.
struct SynSpec: CustomStringConvertible, Sendable {
    var v6 = false
    var extraHeaders = false
    var vlan = false
    var mss: UInt16? = 1460
    var windowScale: UInt8? = 7
    var sack = true
    var timestamps = true
    var payload = false
    var isn: UInt32 = 0x1234_5678
    var window: UInt16 = 64240
    var tsval: UInt32 = 0xA1B2_C3D4

    var description: String {
        "v6 \(v6) extra \(extraHeaders) vlan \(vlan) mss \(String(describing: mss)) ws \(String(describing: windowScale))"
            + " sack \(sack) ts \(timestamps) payload \(payload)"
    }

    static let clientMAC: UInt64 = 0x0200_0000_00C1
    static let gatewayMAC: UInt64 = 0x0200_0000_00A1

    var frame: [UInt8] {
        var options: [TCPOptionSpec] = []
        if let mss { options.append(.mss(mss)) }
        if sack { options.append(.sackPermitted) }
        if timestamps { options.append(.timestamps(val: tsval, ecr: 0)) }
        if let windowScale { options += [.nop, .windowScale(windowScale)] }
        var b = PacketBuilder().ethernet(src: Self.clientMAC, dst: Self.gatewayMAC, vlan: vlan ? 42 : nil)
        if v6 {
            b = b.ipv6(
                src: "2001:db8::10", dst: "2001:db8:1::1", hopLimit: 57,
                extensionHeaders: extraHeaders ? [.hopByHop(), .destinationOptions(options: [0x1E, 2, 0, 0])] : [],
                trafficClass: 0x28, flowLabel: 0x12345)
        } else {
            // Router alert (RFC 2113) and an IP timestamp option with room for one stamp: 12 option bytes.
            let ipOptions: [UInt8] = extraHeaders ? [0x94, 0x04, 0x00, 0x00, 0x44, 0x08, 0x05, 0x00, 0, 0, 0, 0] : []
            b = b.ipv4(
                src: "192.0.2.10", dst: "198.51.100.1", ttl: 57, options: ipOptions, df: false, id: 0x4242, tos: 0x10)
        }
        return b.tcp(
            sport: 40000, dport: 443, seq: isn, ack: 0, flags: TCPFlag.syn | (payload ? TCPFlag.psh : 0),
            window: window, options: options, payload: payload ? [UInt8](repeating: 0x61, count: 100) : []
        ).build()
    }

    /// Every combination the tests sweep.
    static let all: [SynSpec] = {
        var out: [SynSpec] = []
        for v6 in [false, true] {
            for extraHeaders in [false, true] {
                for mss: UInt16? in [nil, 1460, 9000, 1200] {
                    for windowScale: UInt8? in [nil, 0, 7] {
                        for sack in [false, true] {
                            for timestamps in [false, true] {
                                for payload in [false, true] {
                                    out.append(
                                        SynSpec(
                                            v6: v6, extraHeaders: extraHeaders, vlan: payload, mss: mss,
                                            windowScale: windowScale, sack: sack, timestamps: timestamps,
                                            payload: payload, isn: payload ? 0xFFFF_FFFF : 0x1234_5678))
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }()
}

/// Answers `frame` in a buffer of `capacity` bytes; returns the answer, or nil after checking that a
/// refusal left the buffer untouched.
func answerSYN(
    _ frame: [UInt8], info: PacketInfo? = nil, length: Int? = nil, cookie: UInt32 = 0xC0DE_0001,
    parameters: SynAckParameters = SynAckParameters(), capacity: Int = 2048
) -> [UInt8]? {
    let info = info ?? parse(frame).1
    var buffer = frame + [UInt8](repeating: 0xEE, count: max(0, capacity - frame.count))
    let before = buffer
    var length = length ?? frame.count
    var m = buffer.mutableSpan
    guard SynAck.answer(&m, length: &length, info: info, cookie: cookie, parameters: parameters) else {
        #expect(buffer == before, "the frame changed although answer refused")
        return nil
    }
    return Array(buffer.prefix(length))
}

@Suite struct SynAckTests {
    static let parameterSets: [SynAckParameters] = [
        SynAckParameters(),
        SynAckParameters(mss: 1452, windowScale: 9, sack: true, timestamps: true, tsval: 0x0102_0304, ttl: 63),
        SynAckParameters(mss: 8960, windowScale: 0, sack: false, timestamps: true, tsval: 7, window: 0),
        SynAckParameters(mss: 536, windowScale: 20, sack: false, timestamps: false, ttl: 255, window: 29200),
    ]

    @Test(arguments: SynSpec.all)
    func answerHasExpectedFieldsAndOptions(_ spec: SynSpec) throws {
        let syn = spec.frame
        let (reason, synInfo) = parse(syn)
        try #require(reason == nil)
        for parameters in Self.parameterSets {
            let cookie: UInt32 = 0x8765_4321
            let answer = try #require(answerSYN(syn, cookie: cookie, parameters: parameters), "\(spec)")
            #expect(FrameChecker.checksumsValid(answer), "\(spec): \(FrameChecker.problem(answer) ?? "")")
            let (r, info) = parse(answer)
            try #require(r == nil, "\(spec): answer does not parse: \(String(describing: r))")
            let f = answer.span

            // Ethernet: addresses swapped, VLAN tag kept.
            #expect(EthernetHeader.destination(f) == SynSpec.clientMAC)
            #expect(EthernetHeader.source(f) == SynSpec.gatewayMAC)
            #expect(info.l3Offset == synInfo.l3Offset && info.vlanID == (spec.vlan ? 42 : 0))

            // IP: a plain header, addresses swapped.
            #expect(info.isV6 == spec.v6)
            #expect(info.source == synInfo.destination && info.destination == synInfo.source)
            #expect(answer[info.hopLimitOffset] == parameters.ttl)
            let l3 = info.l3Offset
            if spec.v6 {
                #expect(info.ipHeaderLength == 40 && answer[l3 + 6] == 6)
                #expect(f.u32(l3) == 0x6000_0000, "traffic class and flow label 0")
            } else {
                #expect(info.ipHeaderLength == 20 && answer[l3] == 0x45)
                #expect(answer[l3 + 1] == 0, "TOS 0")
                #expect(f.u16(l3 + 4) == 0, "identification 0")
                #expect(f.u16(l3 + 6) == 0x4000, "DF, no fragment offset")
            }

            // TCP header.
            let t = info.l4Offset
            #expect(info.sourcePort == 443 && info.destinationPort == 40000)
            #expect(f.u32(t + 4) == cookie)
            #expect(f.u32(t + 8) == spec.isn &+ 1)
            #expect(info.tcpFlags == TCPFlag.syn | TCPFlag.ack)
            #expect(f.u16(t + 14) == (parameters.window ?? spec.window))
            #expect(f.u16(t + 18) == 0, "urgent pointer")
            #expect(info.payloadLength == 0, "a SYN's data is not answered")
            #expect(answer.count == info.ipEnd, "no padding or leftovers after the datagram")

            // Options.
            let o = info.tcpOptions
            let expectedMSS = min(spec.mss ?? (spec.v6 ? 1220 : 536), parameters.mss)
            #expect(o.mssOffset >= 0 && f.u16(o.mssOffset) == expectedMSS)
            if spec.windowScale != nil {
                #expect(o.windowScaleOffset >= 0 && answer[o.windowScaleOffset] == min(parameters.windowScale, 14))
            } else {
                #expect(o.windowScaleOffset < 0, "no window scale unless the SYN had it")
            }
            #expect((o.sackPermittedOffset >= 0) == (spec.sack && parameters.sack))
            let timestamps = spec.timestamps && parameters.timestamps
            #expect((o.timestampOffset >= 0) == timestamps)
            if timestamps {
                #expect(f.u32(o.timestampOffset) == parameters.tsval)
                #expect(f.u32(o.timestampOffset + 4) == spec.tsval, "TSecr echoes the client's TSval")
            }
            let optionBytes =
                4 + (timestamps ? 12 : 0) + (spec.windowScale != nil ? 4 : 0)
                + (spec.sack && parameters.sack && !timestamps ? 4 : 0)
            #expect(info.tcpHeaderLength == 20 + optionBytes)
            #expect(answer[t + 20] == TCPOptions.maximumSegmentSize, "MSS first, as Linux")
        }
    }

    /// The exact bytes of a fully featured answer (Linux's option layout).
    @Test func exactOptionLayout() throws {
        let spec = SynSpec(mss: 1400, windowScale: 2, sack: true, timestamps: true)
        let parameters = SynAckParameters(mss: 1460, windowScale: 8, sack: true, timestamps: true, tsval: 0x0A0B_0C0D)
        let answer = try #require(answerSYN(spec.frame, parameters: parameters))
        let options = Array(answer[(14 + 20 + 20)...])
        #expect(
            options == [
                2, 4, 0x05, 0x78, 4, 2, 8, 10, 0x0A, 0x0B, 0x0C, 0x0D, 0xA1, 0xB2, 0xC3, 0xD4, 1, 3, 3, 8,
            ])
        let noTS = try #require(answerSYN(SynSpec(windowScale: nil, timestamps: false).frame))
        #expect(Array(noTS[(14 + 20 + 20)...]) == [2, 4, 0x05, 0xB4, 1, 1, 4, 2])
        let bare = try #require(answerSYN(SynSpec(mss: nil, windowScale: nil, sack: false, timestamps: false).frame))
        #expect(Array(bare[(14 + 20 + 20)...]) == [2, 4, 0x02, 0x18])
        #expect(bare.count == 14 + 20 + 24)
    }

    @Test func refusesWhatIsNotAPureSYN() {
        for flags in [TCPFlag.ack, TCPFlag.syn | TCPFlag.ack, TCPFlag.syn | TCPFlag.rst, TCPFlag.syn | TCPFlag.fin, 0] {
            let frame = PacketBuilder().ipv4(src: "192.0.2.10", dst: "198.51.100.1")
                .tcp(sport: 1, dport: 2, flags: flags, options: [.mss(1460)]).build()
            #expect(answerSYN(frame) == nil, "flags \(flags)")
        }
        let udp = PacketBuilder().ipv4(src: "192.0.2.10", dst: "198.51.100.1").udp(sport: 1, dport: 2).build()
        #expect(answerSYN(udp) == nil)
        // A SYN whose option bytes were corrupted after parsing.
        var corrupt = SynSpec().frame
        let info = parse(corrupt).1
        corrupt[info.tcpOptions.mssOffset - 1] = 0
        #expect(answerSYN(corrupt, info: info) == nil)
        // The IP version does not match what `info` says.
        var mixed = SynSpec().frame
        mixed[14] = 0x65
        #expect(answerSYN(mixed, info: info) == nil)
    }

    /// The answer may need 4 more bytes than the SYN (an MSS option the SYN lacked): only a buffer
    /// with room for it works.
    @Test func bufferMustHoldTheAnswer() throws {
        let syn = SynSpec(mss: nil, windowScale: nil, sack: false, timestamps: false).frame
        #expect(syn.count == 54)
        #expect(answerSYN(syn, capacity: 57) == nil)
        let answer = try #require(answerSYN(syn, capacity: 58))
        #expect(answer.count == 58 && FrameChecker.checksumsValid(answer))
        // A SYN with options shrinks or keeps its size: it fits in its own bytes.
        let full = SynSpec(v6: true).frame
        let shrunk = try #require(answerSYN(full, capacity: full.count))
        #expect(shrunk.count <= full.count)
    }

    /// Every prefix of every SYN, answered with the full frame's (now stale) `PacketInfo` or with the
    /// prefix's own parse result, and once more with the whole buffer but a shorter `length`: either
    /// refused, or a valid frame.
    @Test(arguments: [false, true])
    func truncationSweep(v6: Bool) {
        let specs = SynSpec.all.filter { $0.v6 == v6 && $0.windowScale != 0 }
        var answered = 0
        for spec in specs {
            let syn = spec.frame
            let (_, full) = parse(syn)
            for n in 0...syn.count {
                let prefix = Array(syn.prefix(n))
                var results = [
                    answerSYN(prefix, info: full, capacity: n),
                    answerSYN(syn, info: full, length: n, capacity: syn.count),
                ]
                let (reason, own) = parse(prefix)
                if reason == nil { results.append(answerSYN(prefix, info: own, capacity: n + 4)) }
                for case let answer? in results {
                    answered += 1
                    #expect(n == syn.count, "\(spec): prefix \(n) answered")
                    #expect(FrameChecker.checksumsValid(answer), "\(spec): prefix \(n)")
                    #expect(parse(answer).0 == nil)
                }
            }
        }
        #expect(answered > specs.count, "full frames are answered")
    }

    /// Random `PacketInfo` fields (offsets, lengths, family, protocol) against real SYN buffers: the
    /// function must never trap, and anything it accepts must be a valid frame.
    @Test func scrambledInfoNeverTraps() {
        var rng = SplitMix(seed: 0x5A_ACC0)
        let frames = [SynSpec().frame, SynSpec(v6: true, extraHeaders: true).frame, SynSpec(extraHeaders: true).frame]
        let wild = [Int.min, -1, 0, 1, 13, 14, 18, 20, 34, 40, 54, 60, 74, 200, Int.max]
        var accepted = 0
        for round in 0..<20_000 {
            let frame = frames[round % frames.count]
            var info = parse(frame).1
            func pick(_ current: Int) -> Int {
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: return wild[Int.random(in: 0..<wild.count, using: &rng)]
                case 1: return current &+ Int.random(in: -8...8, using: &rng)
                default: return current
                }
            }
            info.l3Offset = pick(info.l3Offset)
            info.l4Offset = pick(info.l4Offset)
            info.ipHeaderLength = pick(info.ipHeaderLength)
            info.tcpHeaderLength = pick(info.tcpHeaderLength)
            info.ipEnd = pick(info.ipEnd)
            if Int.random(in: 0..<8, using: &rng) == 0 { info.isV6.toggle() }
            if Int.random(in: 0..<16, using: &rng) == 0 { info.l4Protocol = 17 }
            let length = pick(frame.count)
            let capacity = Int.random(in: 0...(frame.count + 8), using: &rng)
            let buffer = Array(frame.prefix(capacity))
            if let answer = answerSYN(buffer, info: info, length: length, capacity: capacity) {
                accepted += 1
                #expect(FrameChecker.checksumsValid(answer), "\(FrameChecker.problem(answer) ?? "")")
                #expect(parse(answer).0 == nil)
            }
        }
        #expect(accepted > 0, "unchanged or harmlessly changed infos are still answered")
    }
}
