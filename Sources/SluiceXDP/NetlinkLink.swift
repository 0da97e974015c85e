// An interface as an RTM_NEWLINK / RTM_DELLINK message describes it (ifinfomsg + IFLA_* attributes). Only
// what forwarding needs is kept: index, name, MAC (IFLA_ADDRESS), MTU (IFLA_MTU), group (IFLA_GROUP, for ip
// rules' suppress_ifgroup) and the flags whose change makes the kernel flush routes without telling anyone
// (see NetlinkTables).

import SluiceCore

/// A link record decoded from rtnetlink.
struct NetlinkLink: Sendable, Hashable {
    var index: Int32
    var name: String
    /// Zero for links without a 6-byte hardware address.
    var mac: MACAddress
    var mtu: Int
    /// IFF_* flags.
    var flags: UInt32
    /// The interface group (`ip link set … group`), 0 by default.
    var group: UInt32 = 0

    /// Decodes an ifinfomsg payload. Nil when it is too short, not AF_UNSPEC (bridge port messages use
    /// AF_BRIDGE and describe the port, not the link) or carries no valid index.
    static func decode(_ payload: ArraySlice<UInt8>) -> NetlinkLink? {
        let reader = NetlinkReader(payload)
        guard payload.count >= Netlink.linkMessageSize, reader.u8(at: 0) == Netlink.unspecified,
            let index = reader.i32(at: 4), index > 0, let flags = reader.u32(at: 8)
        else { return nil }
        var link = NetlinkLink(index: index, name: "", mac: .zero, mtu: 0, flags: flags)
        for (type, value) in NetlinkAttributes(in: payload, after: Netlink.linkMessageSize) {
            switch type {
            case Netlink.linkAddress:
                link.mac = NetlinkReader.mac(value) ?? .zero
            case Netlink.linkName:
                link.name = String(decoding: value.prefix { $0 != 0 }, as: UTF8.self)
            case Netlink.linkMTU:
                link.mtu = NetlinkReader(value).u32(at: 0).map(Int.init) ?? 0
            case Netlink.linkGroup:
                link.group = NetlinkReader(value).u32(at: 0) ?? 0
            default:
                continue
            }
        }
        return link
    }

    /// The flags whose change can flush routes silently.
    var linkState: UInt32 { flags & (Netlink.interfaceUp | Netlink.interfaceRunning | Netlink.interfaceLowerUp) }
}
