// Loads the benchmark's topology, connection and frames into the C reference (Sources/CFullNATReference)
// and checks that C and Swift produce the same bytes for the same input: the ratio between the two is
// only meaningful if they did the same rewrite. The C side is driven through integer-only calls, so no
// pointer crosses the boundary (and this target needs no `unsafe`).

import CFullNATReference
import SluiceCore
import SluicePacket

/// The C reference, set up with one established connection.
public enum CReference {
    /// Resets the C tables and installs the topology, `flow`'s connection and its two frames.
    public static func load(_ flow: EstablishedFlow, secret: (UInt64, UInt64)) {
        precondition(
            fnref_reset(secret.0, secret.1, UInt32(BenchTopology.connectionCapacity)) == 0, "C reference: no memory")
        fnref_add_interface(BenchTopology.externalIndex, BenchTopology.externalMAC.value, 1500)
        fnref_add_interface(BenchTopology.internalIndex, BenchTopology.internalMAC.value, 1500)
        fnref_add_route(0x0AD2_0100, 24, BenchTopology.externalIndex, 0)
        fnref_add_route(0x0AD2_0200, 24, BenchTopology.internalIndex, 0)
        fnref_add_route(0, 0, BenchTopology.externalIndex, BenchTopology.client.v4)
        fnref_add_neighbour(BenchTopology.externalIndex, BenchTopology.client.v4, BenchTopology.clientMAC.value)
        fnref_add_neighbour(BenchTopology.internalIndex, BenchTopology.realServer.v4, BenchTopology.realServerMAC.value)
        fnref_set_sides(BenchTopology.externalIndex, BenchTopology.internalIndex)
        let established = ConnectionState.established.rawValue
        let added = fnref_add_connection(
            BenchTopology.client.v4, BenchTopology.clientPort, BenchTopology.vip.v4, BenchTopology.vport,
            BenchTopology.local.v4, flow.localPort, BenchTopology.realServer.v4, BenchTopology.realPort, 6,
            established, flow.seqDelta, 0)
        precondition(added == 0, "C reference: connection table full")
        for (direction, frame) in [(Int32(FNREF_INBOUND), flow.inbound), (Int32(FNREF_OUTBOUND), flow.outbound)] {
            for (i, byte) in frame.enumerated() { fnref_set_frame_byte(direction, Int32(i), byte) }
            fnref_set_frame_length(direction, Int32(frame.count))
        }
    }

    /// `FNREF_INBOUND` or `FNREF_OUTBOUND`.
    public static func direction(inbound: Bool) -> Int32 {
        inbound ? Int32(FNREF_INBOUND) : Int32(FNREF_OUTBOUND)
    }

    /// The per-packet step: restore the pristine frame of `direction` (memcpy) and process it in C.
    /// Returns 0 (transmit external), 1 (transmit internal) or a negative drop code.
    @inlinable
    public static func step(_ direction: Int32) -> Int32 {
        fnref_process_pristine(direction, SwiftReplay.now)
    }

    /// Only the restore half of `step` (for measuring the harness's share). Returns the length copied.
    @inlinable
    public static func restore(_ direction: Int32) -> Int32 {
        fnref_restore_pristine(direction)
    }

    /// Processes the pristine frame of `direction` once and returns the C verdict and output bytes.
    public static func runOnce(_ direction: Int32, now: UInt64) -> (side: Int32, bytes: [UInt8]) {
        let side = fnref_process_pristine(direction, now)
        let length = Int(fnref_work_length())
        return (side, (0..<length).map { fnref_work_byte(Int32($0)) })
    }

    /// A description of the first difference between the C and Swift outputs, or nil when identical.
    public static func difference(c: (side: Int32, bytes: [UInt8]), swift: (Verdict, [UInt8])) -> String? {
        let expectedSide: Int32
        switch swift.0 {
        case .transmit(.external): expectedSide = 0
        case .transmit(.internal): expectedSide = 1
        case .drop(let reason): return "Swift dropped the frame (\(reason))"
        case .handOff(let worker): return "Swift handed the frame to worker \(worker)"
        }
        if c.side != expectedSide { return "C verdict \(c.side), Swift side \(expectedSide)" }
        if c.bytes.count != swift.1.count { return "C length \(c.bytes.count), Swift length \(swift.1.count)" }
        for i in c.bytes.indices where c.bytes[i] != swift.1[i] {
            return "first differing byte at offset \(i): C \(c.bytes[i]), Swift \(swift.1[i])"
        }
        return nil
    }
}
