// Path (b) of the SYNPROXY micro benchmark: a client ACK that returns a valid cookie, for which
// `Dataplane.process` checks the cookie, picks the real server, takes a LIP port, inserts the
// connection, arms its timer, holds the ACK and queues the SYN to the real server (protocol.md §2
// S2). The verdict is `drop(heldForReplay)` and the RS SYN waits in the output queue.
//
// Unlike the SYN (path a), every ACK creates a connection, so a frame cannot simply be replayed. The
// method, all of it outside the measured region except `run`:
// - One long-lived data plane (2^16 connections, 4096 held-segment slots), as a worker's.
// - Batches of `batchSize` ACKs, each from a distinct client port; consecutive batches use the next
//   of `blocks` port blocks (10000–17999), so successive batches land in different table slots.
// - Before each batch (`prepare`): the manual clock moves 200 ms forward and `advance(now:)` runs the
//   timer wheel; with `retries: 0` and a 100 ms retransmission wait (SynProxyTopology) every
//   connection of the previous batch expires, giving back its LIP port, hold slot and table entry.
//   `prepare` checks that the table is empty again.
// - Cookies hold the minute counter and verify for the minute they were made in and the next, so the
//   ACK frames are rebuilt whenever the clock enters a new minute (every 300 batches): each client
//   SYN is answered by the data plane itself and the ACK built from its SYN-ACK (cookie + 1, TS echo),
//   exactly as a client would.
// - `run` restores each ACK into a UMEM-chunk-sized buffer, processes it, and empties the output
//   queue every 64 frames (the worker sends its output after every RX batch of 64; the queue holds 256).
//   It returns how many ACKs were accepted and held: the caller checks that all were.
// The frames live in one flat array at a fixed stride, so the loop does no reference counting.

import SluiceCore
import SluicePacket
import SluiceTestKit

/// A long-lived data plane and batches of valid-cookie ACKs for it.
public struct CookieAckBench: ~Copyable {
    /// ACKs per batch (one package-benchmark sample with `scalingFactor: .kilo`).
    public static let batchSize = 1000
    /// Port blocks cycled through, one per batch.
    public static let blocks = 8
    public static let firstPort: UInt16 = 10_000
    /// Bytes reserved per frame in the flat frame store.
    public static let stride = 128
    /// Clock step between batches: beyond the 100 ms retransmission wait plus a timer tick.
    public static let step: UInt64 = 200

    /// Why the set-up or a batch is not what the benchmark must measure.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public var dataplane: Dataplane
    public let network: NetworkView
    /// Monotonic milliseconds of the manual clock.
    public private(set) var now: UInt64
    @usableFromInline var frames: [UInt8]
    @usableFromInline var lengths: [Int]
    @usableFromInline var buffer: [UInt8]
    @usableFromInline var block = 0
    var framesMinute: UInt64 = .max
    /// The RS SYN the data plane queued for the check ACK at set-up.
    public private(set) var serverSYN: [UInt8] = []

    /// A data plane, the frames for the current minute, and one checked ACK: its verdict, the RS
    /// SYN in the output queue (LIP → RS, SYN, valid checksums) and its expiry.
    public init() throws(Failure) {
        dataplane = SynProxyTopology.makeDataplane()
        network = SynProxyTopology.network()
        now = 1_000_000
        frames = [UInt8](repeating: 0, count: Self.blocks * Self.batchSize * Self.stride)
        lengths = [Int](repeating: 0, count: Self.blocks * Self.batchSize)
        buffer = SynProxyTopology.makeBuffer()
        try checkOneConnection()
        try refreshFrames()
    }

    /// Outside the measured region: expires the previous batch's connections, rebuilds the ACKs if
    /// the minute changed, and selects the next port block.
    public mutating func prepare() throws(Failure) {
        now &+= Self.step
        dataplane.advance(now: now)
        dataplane.clearPendingOutput()
        guard dataplane.connectionCount == 0 else {
            throw Failure(description: "\(dataplane.connectionCount) connections left after expiry")
        }
        try refreshFrames()
        block = (block + 1) % Self.blocks
    }

    /// The measured batch: restores and processes the current block's ACKs. Returns how many were
    /// accepted (verdict `drop(heldForReplay)`, the RS SYN queued).
    @inlinable
    public mutating func run() -> Int {
        // The chunk buffer is moved out of self (no copy: its storage stays uniquely referenced) so
        // that the data plane can be mutated while the frame is borrowed.
        var chunk = buffer
        buffer = []
        let store = frames
        let network = self.network
        let now = self.now
        var held = 0
        let base = block * Self.batchSize
        for i in 0..<Self.batchSize {
            var length = Self.restore(base + i, from: store, lengths: lengths, into: &chunk)
            var frame = chunk.mutableSpan
            let verdict = dataplane.process(frame: &frame, length: &length, from: .external, now: now, network: network)
            if verdict == .drop(.heldForReplay) { held &+= 1 }
            if i & 63 == 63 { dataplane.clearPendingOutput() }
        }
        dataplane.clearPendingOutput()
        buffer = chunk
        return held
    }

    /// Only the restores of a batch (the harness's share of `run`). Returns the bytes copied.
    @inlinable
    public mutating func runRestoresOnly() -> Int {
        var chunk = buffer
        buffer = []
        var bytes = 0
        let base = block * Self.batchSize
        for i in 0..<Self.batchSize { bytes &+= Self.restore(base + i, from: frames, lengths: lengths, into: &chunk) }
        buffer = chunk
        return bytes
    }

    /// Copies frame `index` of `store` into the chunk buffer; returns its length.
    @inlinable
    static func restore(_ index: Int, from store: [UInt8], lengths: [Int], into chunk: inout [UInt8]) -> Int {
        let length = lengths[index]
        var span = chunk.mutableSpan
        span.copyBytes(from: store.span, sourceOffset: index * stride, to: 0, count: length)
        return length
    }

    /// Client port of ACK `i` of port block `block`.
    static func port(block: Int, _ i: Int) -> UInt16 {
        firstPort + UInt16(block * batchSize + i)
    }

    /// Rebuilds every block's ACKs when the cookie minute has changed since they were built.
    mutating func refreshFrames() throws(Failure) {
        let minute = now / SynCookie.counterPeriodMilliseconds
        guard minute != framesMinute else { return }
        for b in 0..<Self.blocks {
            for i in 0..<Self.batchSize {
                let ack = try cookieACK(clientPort: Self.port(block: b, i))
                let index = b * Self.batchSize + i
                guard ack.count <= Self.stride else { throw Failure(description: "ACK longer than the stride") }
                for (k, byte) in ack.enumerated() { frames[index * Self.stride + k] = byte }
                lengths[index] = ack.count
            }
        }
        framesMinute = minute
    }

    /// The ACK a client sends after the data plane answered its SYN: seq = ISN + 1, ack = cookie + 1,
    /// timestamps echoing the SYN-ACK's TSval (66 bytes, as Linux).
    mutating func cookieACK(clientPort: UInt16) throws(Failure) -> [UInt8] {
        let isn = UInt32(clientPort) &* 7919  // any ISN; this one as Perf/lab's xsk_gen
        let syn = SynAnswerReplay.syn(clientPort: clientPort, isn: isn)
        var buffer = SynProxyTopology.makeBuffer()
        var n = SynAnswerReplay.restore(syn, into: &buffer)
        var frame = buffer.mutableSpan
        let verdict = dataplane.process(frame: &frame, length: &n, from: .external, now: now, network: network)
        _ = consume frame
        guard verdict == .transmit(.external), n >= 54 else {
            throw Failure(description: "SYN from port \(clientPort): \(verdict), expected transmit(external)")
        }
        let synAck = Array(buffer[0..<n])
        guard let echo = Self.timestampValue(synAck) else { throw Failure(description: "SYN-ACK without timestamps") }
        let cookie = SynProxyTopology.be32(synAck, 38)
        return PacketBuilder()
            .ethernet(src: SynProxyTopology.clientMAC, dst: SynProxyTopology.externalMAC)
            .ipv4(src: SynProxyTopology.client, dst: SynProxyTopology.vip)
            .tcp(
                sport: clientPort, dport: SynProxyTopology.vport, seq: isn &+ 1, ack: cookie &+ 1, flags: TCPFlag.ack,
                window: 502, options: [.nop, .nop, .timestamps(val: SynAnswerReplay.clientTSval &+ 1, ecr: echo)]
            )
            .build()
    }

    /// TSval of the timestamps option of an IPv4 TCP frame without IP options, or nil.
    static func timestampValue(_ frame: [UInt8]) -> UInt32? {
        let end = 34 + Int(frame[46] >> 4) * 4
        var i = 54
        while i < end {
            switch frame[i] {
            case 0: return nil
            case 1: i += 1
            default:
                guard i + 1 < end, frame[i + 1] >= 2 else { return nil }
                if frame[i] == 8 && frame[i + 1] == 10 && i + 10 <= end { return SynProxyTopology.be32(frame, i + 2) }
                i += Int(frame[i + 1])
            }
        }
        return nil
    }

    /// One ACK from a port outside the blocks through the whole path, checked; then expired.
    mutating func checkOneConnection() throws(Failure) {
        let ack = try cookieACK(clientPort: Self.firstPort - 1)
        var buffer = SynProxyTopology.makeBuffer()
        var n = SynAnswerReplay.restore(ack, into: &buffer)
        var frame = buffer.mutableSpan
        let verdict = dataplane.process(frame: &frame, length: &n, from: .external, now: now, network: network)
        _ = consume frame
        guard verdict == .drop(.heldForReplay) else {
            throw Failure(description: "valid-cookie ACK: \(verdict), expected drop(heldForReplay)")
        }
        guard dataplane.connectionCount == 1, dataplane.pendingOutputCount == 1 else {
            throw Failure(
                description: "after the ACK: \(dataplane.connectionCount) connections, "
                    + "\(dataplane.pendingOutputCount) frames queued; expected 1 and 1")
        }
        let (side, syn) = dataplane.withPendingOutput(0) { bytes, side in
            (side, (0..<bytes.count).map { bytes[$0] })
        }
        serverSYN = syn
        guard side == .internal, syn.count >= 54,
            SynProxyTopology.be32(syn, 26) == SynProxyTopology.local.v4,
            SynProxyTopology.be32(syn, 30) == SynProxyTopology.realServer.v4,
            SynProxyTopology.be16(syn, 36) == SynProxyTopology.realPort, syn[47] == TCPFlag.syn
        else {
            throw Failure(description: "queued frame is not a SYN from the LIP to the real server")
        }
        if let problem = FrameChecker.problem(syn) { throw Failure(description: "RS SYN: \(problem)") }
        dataplane.clearPendingOutput()
        now &+= Self.step
        dataplane.advance(now: now)
        guard dataplane.connectionCount == 0 else {
            throw Failure(description: "the pending connection did not expire after \(Self.step) ms")
        }
    }
}
