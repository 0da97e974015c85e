// A neighbour cache entry as an RTM_NEWNEIGH / RTM_DELNEIGH message describes it (ndmsg + NDA_*
// attributes). Only IPv4 (ARP) and IPv6 (NDP) entries of the neighbour tables are kept: bridge FDB entries
// (AF_BRIDGE) and proxy entries (NTF_PROXY) arrive on the same multicast group and are not next hops.

import SluiceCore
import SluicePacket

/// A neighbour record decoded from rtnetlink.
enum NetlinkNeighbour {
    /// Decodes an ndmsg payload into an entry. Nil when it is too short, of another family, a proxy
    /// entry, or has no NDA_DST of the family's length. A missing or non-6-byte NDA_LLADDR gives a zero MAC.
    static func decode(_ payload: ArraySlice<UInt8>) -> NeighbourEntry? {
        let reader = NetlinkReader(payload)
        guard payload.count >= Netlink.neighbourMessageSize, let family = reader.u8(at: 0),
            family == Netlink.inet || family == Netlink.inet6, let index = reader.i32(at: 4),
            let state = reader.u16(at: 8), let flags = reader.u8(at: 10), flags & Netlink.neighbourFlagProxy == 0
        else { return nil }
        var address: IPAddress?
        var mac = MACAddress.zero
        for (type, value) in NetlinkAttributes(in: payload, after: Netlink.neighbourMessageSize) {
            switch type {
            case Netlink.neighbourDestination:
                address = NetlinkReader.address(value, v6: family == Netlink.inet6)
            case Netlink.neighbourLinkAddress:
                mac = NetlinkReader.mac(value) ?? .zero
            default:
                continue
            }
        }
        guard let address else { return nil }
        return NeighbourEntry(interfaceIndex: index, address: address, mac: mac, state: state)
    }
}
