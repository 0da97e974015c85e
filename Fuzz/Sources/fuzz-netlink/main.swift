// fuzz-netlink: rtnetlink datagrams (links, routes, neighbours, and anything else) through the mirror's
// parser and tables (NetlinkReplay), then a route and neighbour lookup on the resulting view. Input: a
// sequence of [length, 2 bytes][datagram] records.

import Foundation
import FuzzSupport
import SluiceCore
import SluicePacket
import SluiceXDP

exit(
    FuzzDriver.run(argc: CommandLine.argc, argv: CommandLine.unsafeArgv, seeds: NetlinkSeeds.seeds) { data, count in
        var input = FuzzInput(FuzzDriver.bytes(data, count))
        var datagrams: [[UInt8]] = []
        while !input.isAtEnd { datagrams.append(Array(input.take(Int(input.u16())))) }
        let (view, _) = NetlinkReplay.view(applying: datagrams)
        for address in ["10.30.0.11", "2001:db8:30::11", "198.51.100.2"] {
            _ = view.nextHop(to: IPAddress(address)!)
        }
        return 0
    })
