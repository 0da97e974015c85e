// The requests the mirror sends: dumps (RTM_GETLINK, RTM_GETROUTE, RTM_GETNEIGH with NLM_F_DUMP) and the
// neighbour resolution request. The latter is RTM_NEWNEIGH with NLM_F_CREATE and ndm_flags = NTF_USE: the
// kernel's neigh_add() then creates the entry if needed and calls neigh_event_send(), which starts ARP or
// neighbour solicitation exactly as a packet sent by the stack would, without Sluice sending anything
// itself and without setting a state or a link-layer address. NLM_F_ACK makes the kernel answer, so
// the caller learns about a refusal (no such interface, wrong family) at once.

import SluiceCore
import SluicePacket

/// Encoders for the requests the mirror sends.
enum NetlinkRequest {
    /// A dump of links (family ignored), routes or neighbours of one address family.
    static func dump(_ type: UInt16, family: UInt8, sequence: UInt32) -> [UInt8] {
        let size = type == Netlink.getLink ? Netlink.linkMessageSize : Netlink.routeMessageSize
        var body = [UInt8](repeating: 0, count: size)
        body[0] = family
        return NetlinkMessage.encode(
            type: type, flags: Netlink.flagRequest | Netlink.flagDump, sequence: sequence, body: body)
    }

    /// RTM_NEWNEIGH + NLM_F_CREATE + NTF_USE for `address` on `interfaceIndex`, acknowledged.
    static func resolve(_ address: IPAddress, interfaceIndex: Int32, sequence: UInt32) -> [UInt8] {
        // struct ndmsg: family, 3 pad bytes, ifindex, state (NUD_NONE: untouched with NTF_USE), flags, type.
        var body = [UInt8](repeating: 0, count: Netlink.neighbourMessageSize)
        body[0] = address.isV6 ? Netlink.inet6 : Netlink.inet
        body.replaceSubrange(4..<8, with: NetlinkWriter.u32(UInt32(bitPattern: interfaceIndex)))
        body[10] = Netlink.neighbourFlagUse
        return NetlinkMessage.encode(
            type: Netlink.newNeighbour, flags: Netlink.flagRequest | Netlink.flagAck | Netlink.flagCreate,
            sequence: sequence, body: body,
            attributes: [(Netlink.neighbourDestination, NetlinkWriter.address(address))])
    }
}
