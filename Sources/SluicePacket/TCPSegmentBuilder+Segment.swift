// The fields of a segment the gateway originates (see TCPSegmentBuilder): a plain value the caller
// fills in, so building a frame needs no state and no allocation.

extension TCPSegmentBuilder {
    /// Every field of an originated TCP segment. Options are written only when `mss` is non-zero.
    public struct Segment: Sendable, Equatable {
        /// Ethernet source address (low 48 bits, first octet most significant).
        public var sourceMAC: UInt64
        /// Ethernet destination address.
        public var destinationMAC: UInt64
        /// IP source address; both addresses must be of the same family.
        public var source: IPAddress
        /// IP destination address.
        public var destination: IPAddress
        public var sourcePort: UInt16
        public var destinationPort: UInt16
        public var sequence: UInt32
        public var acknowledgement: UInt32
        /// TCP flags (`TCPFlag`).
        public var flags: UInt8
        /// Window field (unscaled on a SYN, RFC 7323 §2.2).
        public var window: UInt16
        /// IPv4 TTL / IPv6 hop limit.
        public var ttl: UInt8
        /// MSS option value; 0 writes no options at all.
        public var mss: UInt16
        /// Window-scale option (clamped to 14), or nil for none.
        public var windowScale: UInt8?
        /// SACK-permitted option.
        public var sackPermitted: Bool
        /// Timestamps option.
        public var timestamps: Bool
        /// TSval when `timestamps`.
        public var timestampValue: UInt32
        /// TSecr when `timestamps`.
        public var timestampEcho: UInt32

        /// A segment without options; set `mss` and the option fields for a SYN.
        @inlinable
        public init(
            sourceMAC: UInt64, destinationMAC: UInt64, source: IPAddress, destination: IPAddress, sourcePort: UInt16,
            destinationPort: UInt16, sequence: UInt32, acknowledgement: UInt32, flags: UInt8, window: UInt16,
            ttl: UInt8 = 64
        ) {
            self.sourceMAC = sourceMAC
            self.destinationMAC = destinationMAC
            self.source = source
            self.destination = destination
            self.sourcePort = sourcePort
            self.destinationPort = destinationPort
            self.sequence = sequence
            self.acknowledgement = acknowledgement
            self.flags = flags
            self.window = window
            self.ttl = ttl
            mss = 0
            windowScale = nil
            sackPermitted = false
            timestamps = false
            timestampValue = 0
            timestampEcho = 0
        }
    }
}
