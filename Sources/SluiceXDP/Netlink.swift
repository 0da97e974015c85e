// rtnetlink numbers from the kernel UAPI (<linux/netlink.h>, <linux/rtnetlink.h>, <linux/neighbour.h>,
// <linux/if_link.h>, <linux/fib_rules.h>). They are spelled out here rather than imported because the
// rtnetlink headers are not part of the CXDP module, and the parser and encoders work on plain bytes (so
// they can be tested on fixtures without a socket). These values are kernel ABI and never change.

/// rtnetlink constants (internal).
enum Netlink {
    // Socket level.
    static let familyNetlink: UInt16 = 16  // AF_NETLINK
    static let protocolRoute: Int32 = 0  // NETLINK_ROUTE
    static let solNetlink: Int32 = 270  // SOL_NETLINK
    static let addMembership: Int32 = 1  // NETLINK_ADD_MEMBERSHIP
    static let extendedAck: Int32 = 11  // NETLINK_EXT_ACK

    // Address families.
    static let unspecified: UInt8 = 0  // AF_UNSPEC
    static let inet: UInt8 = 2  // AF_INET
    static let inet6: UInt8 = 10  // AF_INET6

    // nlmsghdr.
    static let headerSize = 16
    static let typeNoop: UInt16 = 1
    static let typeError: UInt16 = 2
    static let typeDone: UInt16 = 3
    static let typeOverrun: UInt16 = 4

    static let flagRequest: UInt16 = 0x01
    static let flagMulti: UInt16 = 0x02
    static let flagAck: UInt16 = 0x04
    static let flagDumpInterrupted: UInt16 = 0x10
    static let flagDump: UInt16 = 0x300  // NLM_F_ROOT | NLM_F_MATCH
    static let flagReplace: UInt16 = 0x100
    static let flagCreate: UInt16 = 0x400

    // Message types.
    static let newLink: UInt16 = 16
    static let delLink: UInt16 = 17
    static let getLink: UInt16 = 18
    static let newRoute: UInt16 = 24
    static let delRoute: UInt16 = 25
    static let getRoute: UInt16 = 26
    static let newNeighbour: UInt16 = 28
    static let delNeighbour: UInt16 = 29
    static let getNeighbour: UInt16 = 30
    static let newRule: UInt16 = 32
    static let delRule: UInt16 = 33
    static let getRule: UInt16 = 34

    // Multicast groups (RTNLGRP_*).
    static let groupLink: UInt32 = 1
    static let groupNeighbour: UInt32 = 3
    static let groupIPv4Route: UInt32 = 7
    static let groupIPv6Route: UInt32 = 11
    static let groupIPv4Rule: UInt32 = 8
    static let groupIPv6Rule: UInt32 = 19

    // Link (ifinfomsg, 16 bytes) and its attributes.
    static let linkMessageSize = 16
    static let linkAddress: UInt16 = 1  // IFLA_ADDRESS
    static let linkName: UInt16 = 3  // IFLA_IFNAME
    static let linkMTU: UInt16 = 4  // IFLA_MTU
    static let linkGroup: UInt16 = 27  // IFLA_GROUP
    static let interfaceUp: UInt32 = 0x1  // IFF_UP
    static let interfaceRunning: UInt32 = 0x40  // IFF_RUNNING
    static let interfaceLowerUp: UInt32 = 0x10000  // IFF_LOWER_UP

    // Route (rtmsg, 12 bytes) and its attributes.
    static let routeMessageSize = 12
    static let routeDestination: UInt16 = 1  // RTA_DST
    static let routeOutputInterface: UInt16 = 4  // RTA_OIF
    static let routeGateway: UInt16 = 5  // RTA_GATEWAY
    static let routePriority: UInt16 = 6  // RTA_PRIORITY
    static let routeMetrics: UInt16 = 8  // RTA_METRICS (nested RTAX_*)
    static let routeMultipath: UInt16 = 9  // RTA_MULTIPATH (struct rtnexthop list)
    static let routeTable: UInt16 = 15  // RTA_TABLE
    static let routeVia: UInt16 = 18  // RTA_VIA (struct rtvia: family, address)
    static let metricMTU: UInt16 = 2  // RTAX_MTU
    static let tableMain: UInt32 = 254  // RT_TABLE_MAIN
    static let routeFlagCloned: UInt32 = 0x200  // RTM_F_CLONED
    static let nextHopDead: UInt8 = 0x1  // RTNH_F_DEAD
    static let nextHopSize = 8  // struct rtnexthop

    // Route types (RTN_*).
    static let typeUnicast: UInt8 = 1
    static let typeBlackhole: UInt8 = 6
    static let typeUnreachable: UInt8 = 7
    static let typeProhibit: UInt8 = 8
    static let typeThrow: UInt8 = 9

    // Rule (struct fib_rule_hdr, 12 bytes: family, dst_len, src_len, tos, table, res1, res2, action,
    // flags) and its attributes (FRA_*).
    static let ruleMessageSize = 12
    static let ruleDestination: UInt16 = 1  // FRA_DST
    static let ruleSource: UInt16 = 2  // FRA_SRC
    static let ruleInputInterface: UInt16 = 3  // FRA_IIFNAME
    static let ruleGoto: UInt16 = 4  // FRA_GOTO
    static let rulePriority: UInt16 = 6  // FRA_PRIORITY
    static let ruleMark: UInt16 = 10  // FRA_FWMARK
    static let ruleTunnelID: UInt16 = 12  // FRA_TUN_ID
    static let ruleSuppressInterfaceGroup: UInt16 = 13  // FRA_SUPPRESS_IFGROUP
    static let ruleSuppressPrefixLength: UInt16 = 14  // FRA_SUPPRESS_PREFIXLEN
    static let ruleTable: UInt16 = 15  // FRA_TABLE
    static let ruleMarkMask: UInt16 = 16  // FRA_FWMASK
    static let ruleOutputInterface: UInt16 = 17  // FRA_OIFNAME
    static let ruleL3mdev: UInt16 = 19  // FRA_L3MDEV
    static let ruleUIDRange: UInt16 = 20  // FRA_UID_RANGE (struct fib_rule_uid_range)
    static let ruleIPProtocol: UInt16 = 22  // FRA_IP_PROTO
    static let ruleSourcePorts: UInt16 = 23  // FRA_SPORT_RANGE (struct fib_rule_port_range)
    static let ruleDestinationPorts: UInt16 = 24  // FRA_DPORT_RANGE
    static let ruleDSCP: UInt16 = 25  // FRA_DSCP
    static let ruleFlowLabel: UInt16 = 26  // FRA_FLOWLABEL
    static let ruleFlowLabelMask: UInt16 = 27  // FRA_FLOWLABEL_MASK
    static let ruleSourcePortMask: UInt16 = 28  // FRA_SPORT_MASK
    static let ruleDestinationPortMask: UInt16 = 29  // FRA_DPORT_MASK
    static let ruleFlagInvert: UInt32 = 0x2  // FIB_RULE_INVERT
    // Actions (FR_ACT_*).
    static let actionToTable: UInt8 = 1
    static let actionGoto: UInt8 = 2
    static let actionNop: UInt8 = 3
    static let actionBlackhole: UInt8 = 6
    static let actionUnreachable: UInt8 = 7
    static let actionProhibit: UInt8 = 8

    // Neighbour (ndmsg, 12 bytes) and its attributes.
    static let neighbourMessageSize = 12
    static let neighbourDestination: UInt16 = 1  // NDA_DST
    static let neighbourLinkAddress: UInt16 = 2  // NDA_LLADDR
    static let neighbourFlagUse: UInt8 = 0x01  // NTF_USE
    static let neighbourFlagProxy: UInt8 = 0x08  // NTF_PROXY

    /// NLMSG_ALIGN / RTA_ALIGN: lengths round up to 4 bytes.
    static func align(_ length: Int) -> Int { (length + 3) & ~3 }
}
