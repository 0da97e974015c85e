// Ethernet II header access (IEEE 802.3 / 802.1Q). MAC addresses travel as the low 48 bits of a
// UInt64 with the first octet most significant, the same layout as SluiceCore's MACAddress.value;
// SluicePacket imports nothing, so it cannot name that type.

/// Ethernet header fields and EtherType values.
public enum EthernetHeader {
    public static let length = 14
    public static let etherTypeIPv4: UInt16 = 0x0800
    public static let etherTypeIPv6: UInt16 = 0x86DD
    /// 802.1Q customer tag.
    public static let etherTypeVLAN: UInt16 = 0x8100
    /// 802.1ad service tag.
    public static let etherTypeQinQ: UInt16 = 0x88A8

    /// Length of the two MAC addresses at the start of the header.
    public static let addressesLength = 12

    /// Writes the destination (bytes 0–5) and source (bytes 6–11) MAC addresses.
    /// - Returns: false (and nothing written) if `frame` is shorter than the two addresses.
    @inlinable @inline(__always)
    public static func setAddresses(_ frame: inout MutableSpan<UInt8>, destination: UInt64, source: UInt64) -> Bool {
        guard frame.count >= addressesLength else { return false }
        // Two stores: the destination and the source's first two octets, then the source's last four.
        frame.set64(destination &<< 16 | (source &>> 32) & 0xFFFF, at: 0)
        frame.set32(UInt32(truncatingIfNeeded: source), at: 8)
        return true
    }

    /// The destination MAC address.
    @inlinable
    public static func destination(_ frame: Span<UInt8>) -> UInt64 {
        UInt64(frame.u16(0)) &<< 32 | UInt64(frame.u32(2))
    }

    /// The source MAC address.
    @inlinable
    public static func source(_ frame: Span<UInt8>) -> UInt64 {
        UInt64(frame.u16(6)) &<< 32 | UInt64(frame.u32(8))
    }

    /// Exchanges the source and destination MAC addresses.
    /// - Returns: false (and nothing changed) if `frame` is shorter than the two addresses.
    @inlinable
    public static func swapAddresses(_ frame: inout MutableSpan<UInt8>) -> Bool {
        guard frame.count >= addressesLength else { return false }
        var i = 0
        while i < 6 {
            frame.swapAt(i, i &+ 6)
            i &+= 1
        }
        return true
    }
}
