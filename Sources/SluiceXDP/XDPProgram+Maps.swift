// Filling the steering program's maps. Keys are the C structs of sluice_shared.h (imported through CXDP),
// so the layout is the BPF program's by construction. Addresses go in network order, IPv4 in the first four
// bytes with the rest zero; the VIP port in network order; the port range in host order (see the header).
// Updates are single bpf() syscalls, atomic per key, so the program never sees a half-written entry.

import CXDP
import SluiceCore
import SluicePacket

#if canImport(Glibc)
    import Glibc
#endif

extension XDPProgram {
    /// Names of the `sluice_stats` counters, in map order (`enum sluice_stat`).
    public static let statisticNames = [
        "passed_not_ip", "passed_no_match", "passed_fragment", "redirected_vip", "redirected_lip",
        "redirected_icmp", "redirect_failed", "malformed",
    ]

    /// Steers {address, port, protocol} to the data plane.
    public func setVIP(address: IPAddress, port: UInt16, protocol transport: UInt8) throws(XDPError) {
        var key = XDPProgram.vipKey(address, port: port, transport: transport)
        var value = sluice_vip_value(flags: 0)
        let rc = unsafe bpf_map_update_elem(vipsMap, &key, &value, UInt64(BPF_ANY))
        guard rc == 0 else { throw XDPError.fromReturn(rc, "add VIP to \(SLUICE_MAP_VIPS)", interfaceName) }
        installedServices.insert(SteeredService(address: address, port: port, transport: transport))
    }

    /// Stops steering {address, port, protocol}. Removing an absent entry is not an error.
    public func removeVIP(address: IPAddress, port: UInt16, protocol transport: UInt8) throws(XDPError) {
        var key = XDPProgram.vipKey(address, port: port, transport: transport)
        let rc = unsafe bpf_map_delete_elem(vipsMap, &key)
        guard rc == 0 || rc == -ENOENT else {
            throw XDPError.fromReturn(rc, "remove VIP from \(SLUICE_MAP_VIPS)", interfaceName)
        }
        installedServices.remove(SteeredService(address: address, port: port, transport: transport))
    }

    /// Steers TCP/UDP to `address` whose destination port is in the port range (and ICMP errors about it).
    public func setLocalAddress(_ address: IPAddress) throws(XDPError) {
        var key = XDPProgram.lipKey(address)
        var value = sluice_lip_value(flags: 0)
        let rc = unsafe bpf_map_update_elem(lipsMap, &key, &value, UInt64(BPF_ANY))
        guard rc == 0 else { throw XDPError.fromReturn(rc, "add LIP to \(SLUICE_MAP_LIPS)", interfaceName) }
        installedLocalAddresses.insert(address)
    }

    /// Stops steering a local address. Removing an absent entry is not an error.
    public func removeLocalAddress(_ address: IPAddress) throws(XDPError) {
        var key = XDPProgram.lipKey(address)
        let rc = unsafe bpf_map_delete_elem(lipsMap, &key)
        guard rc == 0 || rc == -ENOENT else {
            throw XDPError.fromReturn(rc, "remove LIP from \(SLUICE_MAP_LIPS)", interfaceName)
        }
        installedLocalAddresses.remove(address)
    }

    /// Sets the local ports the data plane owns on every LIP; nil stops LIP steering.
    public func setPortRange(_ range: ClosedRange<UInt16>?) throws(XDPError) {
        var key: UInt32 = 0
        // port_high == 0 disables LIP steering; a range ending at port 0 could only be 0...0, which owns nothing.
        var value = sluice_config(port_low: range?.lowerBound ?? 0, port_high: range?.upperBound ?? 0, flags: 0)
        let rc = unsafe bpf_map_update_elem(configMap, &key, &value, UInt64(BPF_ANY))
        guard rc == 0 else { throw XDPError.fromReturn(rc, "set port range in \(SLUICE_MAP_CONFIG)", interfaceName) }
    }

    /// Puts an AF_XDP socket in the XSKMAP slot of its rx queue; frames steered on that queue go to it.
    public func setSocket(queue: UInt32, fd: Int32) throws(XDPError) {
        var key = queue
        var value = UInt32(bitPattern: fd)
        let rc = unsafe bpf_map_update_elem(xsksMap, &key, &value, UInt64(BPF_ANY))
        guard rc == 0 else {
            throw XDPError.fromReturn(rc, "register socket for queue \(queue) in \(SLUICE_MAP_XSKS)", interfaceName)
        }
    }

    /// Empties the XSKMAP slot of a queue (steered frames on it then go to the kernel, counted).
    public func removeSocket(queue: UInt32) throws(XDPError) {
        var key = queue
        let rc = unsafe bpf_map_delete_elem(xsksMap, &key)
        guard rc == 0 || rc == -ENOENT else {
            throw XDPError.fromReturn(rc, "unregister socket for queue \(queue)", interfaceName)
        }
    }

    /// Makes the maps match a configuration: adds what is new, removes what is gone, sets the port range.
    /// Entries present in both are not touched, so steering never flickers during a reload.
    public func apply(configuration: DataplaneConfiguration) throws(XDPError) {
        let wanted = SteeredService.steering(for: configuration)
        try setPortRange(configuration.localPortRange)
        for service in wanted.services.subtracting(installedServices) {
            try setVIP(address: service.address, port: service.port, protocol: service.transport)
        }
        for address in wanted.localAddresses.subtracting(installedLocalAddresses) {
            try setLocalAddress(address)
        }
        for service in installedServices.subtracting(wanted.services) {
            try removeVIP(address: service.address, port: service.port, protocol: service.transport)
        }
        for address in installedLocalAddresses.subtracting(wanted.localAddresses) {
            try removeLocalAddress(address)
        }
    }

    /// The `sluice_stats` counters summed over CPUs, by name (see `statisticNames`).
    public func readStats() throws(XDPError) -> [String: UInt64] {
        let cpus = Int(libbpf_num_possible_cpus())
        guard cpus > 0 else { throw XDPError.fromReturn(Int32(cpus), "count possible CPUs") }
        var values = [UInt64](repeating: 0, count: cpus)
        var result: [String: UInt64] = [:]
        for (index, name) in XDPProgram.statisticNames.enumerated() {
            var key = UInt32(index)
            let rc = unsafe values.withUnsafeMutableBytes { unsafe bpf_map_lookup_elem(statsMap, &key, $0.baseAddress) }
            guard rc == 0 else { throw XDPError.fromReturn(rc, "read \(SLUICE_MAP_STATS)", interfaceName) }
            result[name] = values.reduce(0, &+)
        }
        return result
    }

    static func vipKey(_ address: IPAddress, port: UInt16, transport: UInt8) -> sluice_vip_key {
        var key = sluice_vip_key()
        unsafe withUnsafeMutableBytes(of: &key.addr) { unsafe XDPProgram.storeAddress(address, into: $0) }
        key.family = UInt8(address.isV6 ? SLUICE_FAMILY_V6 : SLUICE_FAMILY_V4)
        key.proto = transport
        key.port = port.bigEndian
        return key
    }

    static func lipKey(_ address: IPAddress) -> sluice_lip_key {
        var key = sluice_lip_key()
        unsafe withUnsafeMutableBytes(of: &key.addr) { unsafe XDPProgram.storeAddress(address, into: $0) }
        key.family = UInt8(address.isV6 ? SLUICE_FAMILY_V6 : SLUICE_FAMILY_V4)
        return key
    }

    /// Writes an address in network order: 16 bytes for IPv6, 4 then 12 zero bytes for IPv4.
    static func storeAddress(_ address: IPAddress, into bytes: UnsafeMutableRawBufferPointer) {
        for index in 0..<16 { unsafe bytes[index] = 0 }
        if address.isV6 {
            for index in 0..<8 {
                unsafe bytes[index] = UInt8(truncatingIfNeeded: address.high >> UInt64(56 - 8 * index))
                unsafe bytes[8 + index] = UInt8(truncatingIfNeeded: address.low >> UInt64(56 - 8 * index))
            }
        } else {
            for index in 0..<4 {
                unsafe bytes[index] = UInt8(truncatingIfNeeded: address.v4 >> UInt32(24 - 8 * index))
            }
        }
    }
}
