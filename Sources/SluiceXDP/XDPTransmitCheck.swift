// Whether frames the steering program sends back with XDP_TX (the SYN proxy's SYN-ACKs) leave the
// interface. The answer decides whether the runtime lets the program answer SYNs at all, because a failed
// XDP_TX is silent: the program has already returned, the driver drops the frame and counts it in its own
// statistics, and the client sees nothing.
//
//   - skb (generic) mode: XDP_TX goes through the stack's transmit path: works on every device.
//   - native mode on a NIC: the driver transmits from its own XDP rings: works.
//   - native mode on veth: the frame is handed to the peer device's XDP receive ring, and the peer's NAPI is
//     only scheduled for it when the peer itself has a native XDP program (kernel 6.x veth_xdp_flush; with
//     GRO alone the ring is not even drained: tested on 6.18, frames sat there until an XDP program was
//     attached to the peer; without either, veth counts xdp_tx_errors). So on veth the runtime asks
//     rtnetlink for the peer (IFLA_LINK, in namespace IFLA_LINK_NETNSID) and whether it has a driver-mode
//     XDP program (IFLA_XDP).
// A veth peer can gain or lose its program at any time, so the runtime repeats the check periodically.

import SluiceCore

/// rtnetlink's view of whether XDP_TX works on an interface.
enum XDPTransmitCheck {
    // <linux/if_link.h> numbers (kernel ABI).
    static let linkLink: UInt16 = 5  // IFLA_LINK
    static let linkInfo: UInt16 = 18  // IFLA_LINKINFO
    static let linkInfoKind: UInt16 = 1  // IFLA_INFO_KIND
    static let linkNamespaceID: UInt16 = 37  // IFLA_LINK_NETNSID
    static let linkXDP: UInt16 = 43  // IFLA_XDP
    static let linkTargetNamespaceID: UInt16 = 46  // IFLA_TARGET_NETNSID
    static let xdpAttached: UInt16 = 2  // IFLA_XDP_ATTACHED
    static let xdpDriverProgramID: UInt16 = 5  // IFLA_XDP_DRV_PROG_ID
    static let attachedDriver: UInt8 = 1  // XDP_ATTACHED_DRV
    static let attachedMulti: UInt8 = 4  // XDP_ATTACHED_MULTI

    /// What one RTM_GETLINK answer says.
    struct Link: Equatable {
        var kind: String = ""
        var peerIndex: Int32?
        var peerNamespace: Int32?
        /// A driver-mode (native) XDP program is attached.
        var nativeXDP = false
    }

    /// Whether XDP_TX from `interfaceIndex`, attached in `mode`, reaches the wire, and why not.
    static func check(interfaceIndex: Int32, mode: XDPMode) -> (works: Bool, reason: String) {
        guard mode == .native else { return (true, "skb mode transmits through the stack") }
        guard let link = query(index: interfaceIndex, namespace: nil) else {
            return (false, "cannot read the interface from rtnetlink")
        }
        guard link.kind == "veth" else { return (true, "native mode on a \(link.kind.isEmpty ? "NIC" : link.kind)") }
        guard let peerIndex = link.peerIndex, let peer = query(index: peerIndex, namespace: link.peerNamespace) else {
            return (false, "native mode on veth, and the peer cannot be read")
        }
        return peer.nativeXDP
            ? (true, "native mode on veth whose peer has a native XDP program")
            : (false, "native mode on veth whose peer has no native XDP program (XDP_TX frames would be dropped)")
    }

    /// RTM_GETLINK for one interface, in the calling thread's namespace or in the one with id `namespace`
    /// relative to it.
    static func query(index: Int32, namespace: Int32?) -> Link? {
        guard let socket = try? NetlinkSocket() else { return nil }
        var body = [UInt8](repeating: 0, count: Netlink.linkMessageSize)
        NetlinkWriter.set(UInt32(bitPattern: index), in: &body, at: 4)
        var attributes: [(UInt16, [UInt8])] = []
        if let namespace {
            attributes.append((linkTargetNamespaceID, NetlinkWriter.u32(UInt32(bitPattern: namespace))))
        }
        let sequence: UInt32 = 1
        let request = NetlinkMessage.encode(
            type: Netlink.getLink, flags: Netlink.flagRequest, sequence: sequence, body: body, attributes: attributes)
        guard (try? socket.send(request)) != nil else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65536)
        while socket.waitReadable(milliseconds: 200) {
            guard case .bytes(let count) = try? socket.receive(into: &buffer) else { return nil }
            for message in NetlinkMessage.split(buffer[0..<count]).messages where message.sequence == sequence {
                if message.errorCode != nil { return nil }
                if message.type == Netlink.newLink { return decode(message.payload) }
            }
        }
        return nil
    }

    /// The parts of an ifinfomsg payload this check needs.
    static func decode(_ payload: ArraySlice<UInt8>) -> Link? {
        guard payload.count >= Netlink.linkMessageSize else { return nil }
        var link = Link()
        for (type, value) in NetlinkAttributes(in: payload, after: Netlink.linkMessageSize) {
            switch type {
            case linkLink:
                link.peerIndex = NetlinkReader(value).i32(at: 0)
            case linkNamespaceID:
                link.peerNamespace = NetlinkReader(value).i32(at: 0)
            case linkInfo:
                for (infoType, infoValue) in NetlinkAttributes(value) where infoType == linkInfoKind {
                    link.kind = String(decoding: infoValue.prefix { $0 != 0 }, as: UTF8.self)
                }
            case linkXDP:
                var attached: UInt8 = 0
                var driverProgram: UInt32 = 0
                for (xdpType, xdpValue) in NetlinkAttributes(value) {
                    if xdpType == xdpAttached { attached = NetlinkReader(xdpValue).u8(at: 0) ?? 0 }
                    if xdpType == xdpDriverProgramID { driverProgram = NetlinkReader(xdpValue).u32(at: 0) ?? 0 }
                }
                link.nativeXDP = attached == attachedDriver || (attached == attachedMulti && driverProgram != 0)
            default:
                continue
            }
        }
        return link
    }
}
