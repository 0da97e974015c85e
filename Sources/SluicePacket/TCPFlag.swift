// TCP flag bits as they sit in byte 13 of the TCP header (RFC 9293 §3.1, RFC 3168 for ECE/CWR).
// Plain UInt8 constants rather than an OptionSet so they combine with `PacketInfo.tcpFlags` and
// with the raw header byte without conversion.

/// Bits of the TCP flags byte.
public enum TCPFlag {
    public static let fin: UInt8 = 0x01
    public static let syn: UInt8 = 0x02
    public static let rst: UInt8 = 0x04
    public static let psh: UInt8 = 0x08
    public static let ack: UInt8 = 0x10
    public static let urg: UInt8 = 0x20
    public static let ece: UInt8 = 0x40
    public static let cwr: UInt8 = 0x80
}
