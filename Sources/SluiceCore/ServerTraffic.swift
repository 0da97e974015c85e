// Per-real-server traffic of one worker, as the control plane reads it through the worker's mailbox
// (summed over workers at scrape time): ipvsadm's --stats columns and the scheduler's connection counts.

import SluicePacket

/// One real server's counters in one worker.
public struct ServerTraffic: Sendable, Equatable {
    public var service: String
    public var address: IPAddress
    public var port: UInt16
    /// Connections scheduled to it.
    public var connections: UInt64
    public var inPackets: UInt64
    public var inBytes: UInt64
    public var outPackets: UInt64
    public var outBytes: UInt64
    /// ESTABLISHED connections (IPVS ActiveConn) and the others (InActConn).
    public var active: UInt64
    public var inactive: UInt64

    public init(
        service: String, address: IPAddress, port: UInt16, connections: UInt64 = 0, inPackets: UInt64 = 0,
        inBytes: UInt64 = 0, outPackets: UInt64 = 0, outBytes: UInt64 = 0, active: UInt64 = 0, inactive: UInt64 = 0
    ) {
        self.service = service
        self.address = address
        self.port = port
        self.connections = connections
        self.inPackets = inPackets
        self.inBytes = inBytes
        self.outPackets = outPackets
        self.outBytes = outBytes
        self.active = active
        self.inactive = inactive
    }
}
