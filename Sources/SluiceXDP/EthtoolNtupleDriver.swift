// Receive classification rules through the ethtool ioctls (ETHTOOL_GRXCLSRLCNT, _GRXCLSRLALL,
// _SRXCLSRLINS, _SRXCLSRLDEL: what `ethtool -n` / `-N` use). Control plane only: called at start, on a
// reload that changes the local addresses, and at stop.
//
// Where a rule goes: drivers that choose a location themselves say so (RX_CLS_LOC_SPECIAL in the count
// reply) and get RX_CLS_LOC_ANY; for the others the lowest location no installed rule uses is taken,
// as ethtool does. Rules are matched lowest location first, so an operator's own rules at low locations
// keep precedence over Sluice's on such drivers.

import CXDP
import SluicePacket

#if canImport(Glibc)
    import Glibc
#endif

/// The ethtool ioctls for one interface.
public struct EthtoolNtupleDriver: NtupleDriver {
    public let interfaceName: String

    public init(interfaceName: String) {
        self.interfaceName = interfaceName
    }

    public mutating func insert(_ rule: NtupleRule) throws(XDPError) -> UInt32 {
        let location = try freeLocation()
        var bytes = [UInt8](repeating: 0, count: 16)
        if rule.destination.isV6 {
            for index in 0..<8 {
                bytes[index] = UInt8(truncatingIfNeeded: rule.destination.high >> (56 - 8 * index))
                bytes[8 + index] = UInt8(truncatingIfNeeded: rule.destination.low >> (56 - 8 * index))
            }
        } else {
            let value = rule.destination.v4
            for index in 0..<4 { bytes[index] = UInt8(truncatingIfNeeded: value >> (24 - 8 * index)) }
        }
        var placed: UInt32 = 0
        let rc = unsafe bytes.withUnsafeBufferPointer { buffer in
            unsafe cxdp_ethtool_rule_insert(
                interfaceName, rule.destination.isV6 ? 1 : 0, rule.transport == .tcp ? 1 : 0, buffer.baseAddress,
                rule.port, rule.portMask, rule.queue, location, &placed)
        }
        guard rc == 0 else {
            throw XDPError.fromErrno("insert ntuple rule", interfaceName, detail: "ethtool -N \(interfaceName) \(rule)")
        }
        return placed
    }

    public mutating func delete(location: UInt32) throws(XDPError) {
        guard unsafe cxdp_ethtool_rule_delete(interfaceName, location) == 0 else {
            throw XDPError.fromErrno(
                "delete ntuple rule", interfaceName, detail: "ethtool -N \(interfaceName) delete \(location)")
        }
    }

    /// RX_CLS_LOC_ANY when the driver places rules itself, else the lowest unused location.
    private func freeLocation() throws(XDPError) -> UInt32 {
        var count: UInt32 = 0
        var tableSize: UInt32 = 0
        var anyLocation: Int32 = 0
        guard unsafe cxdp_ethtool_rule_count(interfaceName, &count, &tableSize, &anyLocation) == 0 else {
            throw XDPError.fromErrno("count ntuple rules", interfaceName)
        }
        if anyLocation != 0 { return UInt32(RX_CLS_LOC_ANY) }
        var used = [UInt32](repeating: 0, count: Int(count))
        var written = count
        if count > 0 {
            let rc = unsafe used.withUnsafeMutableBufferPointer { buffer in
                unsafe cxdp_ethtool_rule_locations(interfaceName, &written, buffer.baseAddress)
            }
            guard rc == 0 else { throw XDPError.fromErrno("list ntuple rules", interfaceName) }
        }
        let taken = Set(used.prefix(Int(written)))
        var location: UInt32 = 0
        while location < tableSize {
            if !taken.contains(location) { return location }
            location += 1
        }
        throw XDPError(
            operation: "insert ntuple rule", subject: interfaceName, code: ENOSPC,
            detail: "the rule table is full (\(tableSize) rules)")
    }
}
