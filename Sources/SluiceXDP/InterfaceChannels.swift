// An interface's channel counts as its driver reports them (ETHTOOL_GCHANNELS, what `ethtool -l`
// prints). A channel is an interrupt vector with its queues: "combined" channels carry one RX and
// one TX queue, "rx" and "tx" channels only one of them. Sluice needs the RX figure to bind a socket
// to every RX queue and, for RSS-aware reply steering, to know which queues the indirection table
// may name. sysfs (`queues/rx-N`, see SluiceControl's ReceiveQueues) shows the queues the kernel
// allocated; this shows what the driver uses now and how far `ethtool -L` could raise it.
//
// The ioctl runs on a socket of the calling thread's network namespace. Control plane only: called
// once at start.

import CXDP

#if canImport(Glibc)
    import Glibc
#endif

/// The channel counts of a network interface, current and maximum.
public struct InterfaceChannels: Sendable, Equatable {
    /// Channels with an RX queue only.
    public var receive: Int
    /// Channels with a TX queue only.
    public var transmit: Int
    /// Channels for other purposes (link interrupts, for instance).
    public var other: Int
    /// Channels with both an RX and a TX queue.
    public var combined: Int
    /// The most RX-only channels the driver allows.
    public var maximumReceive: Int
    /// The most TX-only channels the driver allows.
    public var maximumTransmit: Int
    /// The most other channels the driver allows.
    public var maximumOther: Int
    /// The most combined channels the driver allows.
    public var maximumCombined: Int

    public init(
        receive: Int = 0, transmit: Int = 0, other: Int = 0, combined: Int = 0, maximumReceive: Int = 0,
        maximumTransmit: Int = 0, maximumOther: Int = 0, maximumCombined: Int = 0
    ) {
        self.receive = receive
        self.transmit = transmit
        self.other = other
        self.combined = combined
        self.maximumReceive = maximumReceive
        self.maximumTransmit = maximumTransmit
        self.maximumOther = maximumOther
        self.maximumCombined = maximumCombined
    }

    /// The counts of a GCHANNELS reply.
    init(_ reply: ethtool_channels) {
        self.init(
            receive: Int(reply.rx_count), transmit: Int(reply.tx_count), other: Int(reply.other_count),
            combined: Int(reply.combined_count), maximumReceive: Int(reply.max_rx),
            maximumTransmit: Int(reply.max_tx), maximumOther: Int(reply.max_other),
            maximumCombined: Int(reply.max_combined))
    }

    /// RX queues frames can arrive on: one per combined channel and one per RX-only channel.
    public var receiveQueues: Int { combined + receive }

    /// TX queues: one per combined channel and one per TX-only channel.
    public var transmitQueues: Int { combined + transmit }

    /// Reads the channel counts of `interface` in the calling thread's network namespace.
    /// - Returns: nil when the driver does not report channels (EOPNOTSUPP).
    /// - Throws: `XDPError` for any other failure (ENODEV: no such interface).
    public static func read(interface: String) throws(XDPError) -> InterfaceChannels? {
        var reply = ethtool_channels()
        reply.cmd = UInt32(ETHTOOL_GCHANNELS)
        guard unsafe cxdp_ethtool(interface, &reply) == 0 else {
            if errno == EOPNOTSUPP { return nil }
            throw XDPError.fromErrno("read channel counts", interface)
        }
        return InterfaceChannels(reply)
    }
}
