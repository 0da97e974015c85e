// Channel counts and the RSS configuration by ethtool ioctl: the decoding of the kernel's replies
// and the verdict on whether RX queues can be predicted, then both ioctls against a real veth with
// two RX and two TX queues in a namespace the test creates (prefix `ch-`, root only). veth reports
// its queues as RX-only and TX-only channels and has no RSS, so GRSSH answers EOPNOTSUPP.

import CXDP
import Dispatch
import Foundation
import SluiceCore
import SluicePacket
import Synchronization
import Testing

@testable import SluiceXDP

@Suite struct InterfaceChannelsTests {
    @Test func decodesChannelReply() {
        var reply = ethtool_channels()
        reply.cmd = UInt32(ETHTOOL_GCHANNELS)
        reply.max_rx = 0
        reply.max_tx = 0
        reply.max_other = 1
        reply.max_combined = 63
        reply.other_count = 1
        reply.combined_count = 8
        let channels = InterfaceChannels(reply)
        #expect(
            channels
                == InterfaceChannels(other: 1, combined: 8, maximumOther: 1, maximumCombined: 63))
        #expect(channels.receiveQueues == 8)
        #expect(channels.transmitQueues == 8)
    }

    @Test func separateChannelsCountAsQueues() {
        let channels = InterfaceChannels(receive: 4, transmit: 2, combined: 1)
        #expect(channels.receiveQueues == 5)
        #expect(channels.transmitQueues == 3)
    }

    @Test func hashFunctionBits() {
        typealias F = RSSConfiguration.HashFunction
        #expect(F(bits: 0) == .unreported)
        #expect(F(bits: 1) == .toeplitz)
        #expect(F(bits: 2) == .xor)
        #expect(F(bits: 4) == .crc32)
        #expect(F(bits: 3) == .other(3))
        #expect("\(F.toeplitz)" == "toeplitz")
    }

    private static func configuration(
        _ function: RSSConfiguration.HashFunction = .toeplitz, transform: UInt8 = 0,
        key: [UInt8] = ToeplitzHash.microsoftDefaultKey, queues: Int = 4
    ) -> RSSConfiguration {
        RSSConfiguration(
            hashFunction: function, inputTransform: transform, key: key,
            indirection: queues == 0 ? [] : RSSIndirection.roundRobin(queues: queues).entries)
    }

    @Test func toeplitzIsPredictable() throws {
        let rss = Self.configuration()
        #expect(rss.problem == nil)
        let hash = try #require(rss.toeplitz)
        let table = try #require(rss.table)
        #expect(table == RSSIndirection.roundRobin(queues: 4))
        let value = hash.hash(
            source: IPAddress(v4: 0x4209_95bb), destination: IPAddress(v4: 0xa18e_6450), sourcePort: 2794,
            destinationPort: 1766)
        #expect(value == 0x51cc_c178)
        #expect(table.queue(for: value) == 0)
    }

    @Test func otherConfigurationsAreNot() {
        let cases: [RSSConfiguration] = [
            Self.configuration(.xor), Self.configuration(.crc32), Self.configuration(.unreported),
            Self.configuration(transform: 1), Self.configuration(key: Array(repeating: 1, count: 16)),
            Self.configuration(queues: 0),
        ]
        for rss in cases {
            #expect(rss.problem != nil)
            #expect(rss.toeplitz == nil)
        }
        #expect(Self.configuration(.xor).problem?.contains("xor") == true)
        #expect(Self.configuration(queues: 0).table == nil)
    }

    @Test func missingInterfaceThrows() {
        #expect(throws: XDPError.self) { _ = try InterfaceChannels.read(interface: "sluice-none0") }
        #expect(throws: XDPError.self) { _ = try RSSConfiguration.read(interface: "sluice-none0") }
    }
}

/// The ioctls on a veth pair with two queues each way.
@Suite(.serialized, .enabled(if: getuid() == 0, "creates network namespaces: needs root"))
struct InterfaceChannelsNamespaceTests {
    static let namespace = "ch-rss"

    private static func run(_ arguments: String...) throws {
        try Lab.run(arguments)
    }

    /// Runs `body` on a new thread inside `namespace` (setns is per thread).
    private static func inNamespace<T: Sendable>(_ body: @escaping @Sendable () throws -> T) throws -> T {
        let result = Mutex<Result<T, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            let outcome = Result { () throws -> T in
                try NetworkNamespace.enter(named: namespace)
                return try body()
            }
            result.withLock { $0 = outcome }
            done.signal()
        }
        thread.start()
        done.wait()
        return try result.withLock { $0! }.get()
    }

    @Test func vethWithTwoQueues() throws {
        _ = try? Lab.run("ip", "netns", "del", Self.namespace, check: false)
        try Self.run("ip", "netns", "add", Self.namespace)
        defer { _ = try? Lab.run("ip", "netns", "del", Self.namespace, check: false) }
        try Self.run(
            "ip", "-n", Self.namespace, "link", "add", "chr0", "numrxqueues", "2", "numtxqueues", "2", "type", "veth",
            "peer", "name", "chr1", "numrxqueues", "2", "numtxqueues", "2")

        let (channels, rss) = try Self.inNamespace {
            (try InterfaceChannels.read(interface: "chr0"), try RSSConfiguration.read(interface: "chr0"))
        }
        let read = try #require(channels, "veth reports its channels")
        #expect(read.receive == 2)
        #expect(read.transmit == 2)
        #expect(read.combined == 0)
        #expect(read.maximumReceive == 2)
        #expect(read.maximumTransmit == 2)
        #expect(read.receiveQueues == 2)
        #expect(rss == nil, "veth has no RSS: GRSSH answers EOPNOTSUPP")
    }
}
