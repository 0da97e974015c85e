// What the data plane remembers about a held client segment besides its bytes: read once when the
// segment arrives, so that deduplication, the RS SYN and the RST to the client need no re-parse.

extension SynProxySegmentQueue {
    /// Metadata of one held client segment (client sequence space).
    public struct Segment: Sendable, Equatable {
        /// Frame length in bytes.
        public var length: UInt16
        /// TCP flags.
        public var flags: UInt8
        /// The segment's window field (in the client's scaled units).
        public var window: UInt16
        /// Sequence number.
        public var sequence: UInt32
        /// Sequence number after the segment: sequence + payload (+ 1 for FIN), wrapping.
        public var end: UInt32
        /// TSval of its timestamp option (0 when it has none).
        public var timestampValue: UInt32

        /// An empty record.
        @inlinable
        public init() {
            length = 0
            flags = 0
            window = 0
            sequence = 0
            end = 0
            timestampValue = 0
        }

        /// A record with the given fields.
        @inlinable
        public init(
            length: UInt16, flags: UInt8, window: UInt16, sequence: UInt32, end: UInt32, timestampValue: UInt32
        ) {
            self.length = length
            self.flags = flags
            self.window = window
            self.sequence = sequence
            self.end = end
            self.timestampValue = timestampValue
        }
    }
}
