// Netlink datagrams applied to the mirror's tables exactly as the mirror applies what the kernel sends
// (split into messages, each applied in order, the view built after the burst), without a socket: for
// the fuzz target of the netlink parser (Fuzz/) and for diagnostics. Every table and the ip rules are
// followed, as by default; with no rule message among the datagrams the kernel's default rules apply.

import SluiceCore

/// Replays netlink datagrams through the mirror's parser and tables.
public enum NetlinkReplay {
    /// The network view after applying every message of every datagram, and how many datagrams ended
    /// in bytes that formed no message.
    public static func view(applying datagrams: [[UInt8]]) -> (view: NetworkView, malformed: Int) {
        var tables = NetlinkTables()
        var malformed = 0
        for datagram in datagrams {
            let (messages, bad) = NetlinkMessage.split(datagram[...])
            if bad { malformed += 1 }
            for message in messages { _ = tables.apply(message) }
        }
        return (tables.view(generation: 1), malformed)
    }
}
