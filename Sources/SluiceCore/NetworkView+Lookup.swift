// The per-packet lookups. They only read the arrays built once per snapshot (see
// NetworkView+Snapshot.swift): no allocation, no reference counting beyond what borrowing the view
// already holds, and a bounded number of probes (one per distinct prefix length of the family, plus
// short linear-probe runs in tables kept at most half full).

import SluicePacket

extension NetworkView {
    /// The interface with index `index`, if the kernel has it.
    @inlinable
    public func interface(_ index: Int32) -> InterfaceInfo? {
        var lower = 0
        var upper = interfaces.count
        while lower < upper {
            let middle = (lower + upper) / 2
            let candidate = interfaces[middle].index
            if candidate == index { return interfaces[middle] }
            if candidate < index { lower = middle + 1 } else { upper = middle }
        }
        return nil
    }

    /// The next hop towards `destination`: the longest matching prefix of the same family, the lowest
    /// metric among equal prefixes; of a multipath route, the next hop `flowHash` picks by weight.
    /// Returns nil when no route matches, when the best match is a reject route (blackhole, unreachable,
    /// prohibit, throw), or when its interface is unknown.
    @inlinable
    public func nextHop(to destination: IPAddress, flowHash: UInt32 = 0) -> NextHop? {
        let start = destination.isV6 ? v4PrefixLengthCount : 0
        let end = destination.isV6 ? prefixLengths.count : v4PrefixLengthCount
        let mask = routeSlots.count - 1
        var n = start
        while n < end {
            let length = prefixLengths[n]
            let (high, low) = RouteSlot.mask(destination, length: length)
            let tag = RouteSlot.tag(v6: destination.isV6, length: length)
            var i = RouteSlot.hash(high: high, low: low, tag: tag) & mask
            while routeSlots[i].tag != 0 {
                if routeSlots[i].matches(high: high, low: low, tag: tag) {
                    var entry = routeEntries[Int(routeSlots[i].entry)]
                    guard entry.usable else { return nil }
                    let multipath = entry.pathCount > 0
                    if multipath {
                        entry = pathEntries[Int(entry.pathStart) + Int(flowHash % UInt32(entry.pathCount))]
                    }
                    return NextHop(
                        interfaceIndex: entry.interfaceIndex, address: entry.connected ? destination : entry.gateway,
                        mtu: entry.mtu, isMultipath: multipath)
                }
                i = (i + 1) & mask
            }
            n += 1
        }
        return nil
    }

    /// The link-layer address of `address` on interface `interfaceIndex`, when the kernel holds it in
    /// a usable state (REACHABLE, STALE, DELAY, PROBE, PERMANENT or NOARP). Nil for INCOMPLETE, FAILED
    /// or an unknown neighbour: the caller drops the frame and asks the kernel to resolve.
    @inlinable
    public func neighbour(_ address: IPAddress, on interfaceIndex: Int32) -> MACAddress? {
        let mask = neighbourSlots.count - 1
        var i = NeighbourSlot.hash(address, interfaceIndex: interfaceIndex) & mask
        while neighbourSlots[i].occupied {
            if neighbourSlots[i].matches(address, interfaceIndex: interfaceIndex) { return neighbourSlots[i].mac }
            i = (i + 1) & mask
        }
        return nil
    }
}
