// Where the interesting TCP options of one segment are, as absolute frame offsets.
//
// The data plane rewrites options in place (MSS clamp, SACK edge translation, TOA strip, TS NOP-out)
// and needs only their positions, so a scan records offsets instead of copying values: −1 means the
// option is absent. Offsets are valid for the frame as it was scanned; anything that moves bytes
// (TOA insertion) makes them stale.

/// Positions of the TCP options Sluice reads or rewrites; −1 when absent.
public struct TCPOptionSummary: Sendable, Equatable {
    /// Offset of the 2-byte MSS value (kind 2); the option starts 2 bytes earlier.
    public var mssOffset: Int
    /// Offset of the 1-byte window-scale shift (kind 3); the option starts 2 bytes earlier.
    public var windowScaleOffset: Int
    /// Offset of the SACK-permitted option (kind 4) itself (it has no value).
    public var sackPermittedOffset: Int
    /// Offset of the 4-byte TSval (kind 8); TSecr follows at +4 and the option starts 2 bytes earlier.
    public var timestampOffset: Int
    /// Offset of the first SACK block's left edge (kind 5); the option starts 2 bytes earlier.
    /// Only the first SACK option is recorded.
    public var sackOffset: Int
    /// Number of 8-byte blocks (left edge, right edge) in that SACK option.
    public var sackBlockCount: Int
    /// Offset of the first kind-254 option (TOA) itself, i.e. of its kind byte.
    public var toaOffset: Int
    /// Total length of that kind-254 option (kind and length bytes included), 0 when absent.
    public var toaLength: Int

    /// A summary with every option absent.
    @inlinable
    public init() {
        mssOffset = -1
        windowScaleOffset = -1
        sackPermittedOffset = -1
        timestampOffset = -1
        sackOffset = -1
        sackBlockCount = 0
        toaOffset = -1
        toaLength = 0
    }
}
