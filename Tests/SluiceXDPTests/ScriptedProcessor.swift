// A FrameProcessor whose verdicts the test decides, recording what the worker loop handed it.

import SluiceCore
import SluicePacket

@testable import SluiceXDP

struct ScriptedProcessor: FrameProcessor {
    struct Seen: Equatable {
        var side: Side
        var length: Int
        var capacity: Int
        var firstByte: UInt8
        var handedOff = false
    }

    var counters = Counters()
    /// The verdict for every frame.
    var verdict: Verdict = .drop(.noService)
    /// The verdict for frames another worker handed over, when it differs.
    var handedOffVerdict: Verdict?
    /// When set, the output length the processor reports.
    var rewriteLength: Int?
    var seen: [Seen] = []
    /// The first 128 bytes of every frame, as received.
    var frames: [[UInt8]] = []
    var output: [(bytes: [UInt8], side: Side)] = []
    var resolutions: [(address: IPAddress, interfaceIndex: Int32)] = []
    var applied = 0
    var advancedTo: UInt64 = 0

    mutating func apply(configuration: DataplaneConfiguration) { applied += 1 }

    mutating func process(
        frame: inout MutableSpan<UInt8>, length: inout Int, from side: Side, now: UInt64,
        network: borrowing NetworkView, handedOff: Bool
    ) -> Verdict {
        seen.append(
            Seen(side: side, length: length, capacity: frame.count, firstByte: frame[0], handedOff: handedOff))
        frames.append((0..<Swift.min(length, 128)).map { frame[$0] })
        frame[0] = 0xAB
        if let rewriteLength { length = rewriteLength }
        return handedOff ? handedOffVerdict ?? verdict : verdict
    }

    mutating func advance(now: UInt64, network: borrowing NetworkView) { advancedTo = now }

    var pendingOutputCount: Int { output.count }
    func withPendingOutput<R>(_ index: Int, _ body: (Span<UInt8>, Side) -> R) -> R {
        let bytes = output[index].bytes
        return body(bytes.span, output[index].side)
    }
    mutating func clearPendingOutput() { output.removeAll() }

    var pendingResolutionCount: Int { resolutions.count }
    func pendingResolution(_ index: Int) -> (address: IPAddress, interfaceIndex: Int32) { resolutions[index] }
    mutating func clearPendingResolutions() { resolutions.removeAll() }
}
