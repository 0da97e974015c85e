// Filling the steering program's maps. Keys are the C structs of sluice_shared.h (imported through CXDP),
// so the layout is the BPF program's by construction. Addresses go in network order, IPv4 in the first four
// bytes with the rest zero; the VIP port in network order; the port range in host order (see the header).
// Hash-map updates are single bpf() syscalls that replace an entry whole, so the program never sees a
// half-written VIP or LIP. Array-map values are copied in place, so a 16-byte cookie key could be read
// half old, half new: keys are written into the slot the program is not using and then made current by
// one 8-byte `sluice_config` update.

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
        "redirected_icmp", "redirect_failed", "malformed", "syn_answered", "syn_to_dataplane", "redirected_fragment",
    ]

    /// Steers {address, port, protocol} to the data plane; with `synAnswer`, the program answers the
    /// service's client SYNs itself with the cookie SYN-ACK (the service must be TCP with `syn_proxy`).
    /// Replaces an existing entry in one update. The address also goes into `sluice_vip_addrs`, which
    /// steers later fragments (they have no ports) to any VIP address.
    public func setVIP(
        address: IPAddress, port: UInt16, protocol transport: UInt8, synAnswer: SynAnswerParameters? = nil
    ) throws(XDPError) {
        var key = XDPProgram.vipKey(address, port: port, transport: transport)
        var value = synAnswer?.mapValue ?? sluice_vip_value(flags: 0, mss: 0, wscale: 0, pad: 0)
        let rc = unsafe bpf_map_update_elem(vipsMap, &key, &value, UInt64(BPF_ANY))
        guard rc == 0 else { throw XDPError.fromReturn(rc, "add VIP to \(SLUICE_MAP_VIPS)", interfaceName) }
        installedServices[SteeredService(address: address, port: port, transport: transport)] = .some(synAnswer)
        var addressKey = XDPProgram.lipKey(address)
        var addressValue = sluice_lip_value(flags: 0)
        let added = unsafe bpf_map_update_elem(vipAddressesMap, &addressKey, &addressValue, UInt64(BPF_ANY))
        guard added == 0 else {
            throw XDPError.fromReturn(added, "add VIP to \(SLUICE_MAP_VIP_ADDRESSES)", interfaceName)
        }
    }

    /// Stops steering {address, port, protocol}, and the address's later fragments once no service of it
    /// is left. Removing an absent entry is not an error.
    public func removeVIP(address: IPAddress, port: UInt16, protocol transport: UInt8) throws(XDPError) {
        var key = XDPProgram.vipKey(address, port: port, transport: transport)
        let rc = unsafe bpf_map_delete_elem(vipsMap, &key)
        guard rc == 0 || rc == -ENOENT else {
            throw XDPError.fromReturn(rc, "remove VIP from \(SLUICE_MAP_VIPS)", interfaceName)
        }
        installedServices[SteeredService(address: address, port: port, transport: transport)] = nil
        guard !installedServices.keys.contains(where: { $0.address == address }) else { return }
        var addressKey = XDPProgram.lipKey(address)
        let removed = unsafe bpf_map_delete_elem(vipAddressesMap, &addressKey)
        guard removed == 0 || removed == -ENOENT else {
            throw XDPError.fromReturn(removed, "remove VIP from \(SLUICE_MAP_VIP_ADDRESSES)", interfaceName)
        }
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
        try writeConfig(range: range, flags: configFlags, "set port range in \(SLUICE_MAP_CONFIG)")
    }

    /// Gives the program the SYN-cookie keys (`SynCookie`'s 128-bit keys) the workers use: the current
    /// key makes its cookies. The key is written into the slot the program does not read, then one
    /// `sluice_config` update makes it current; the other slot keeps the key that was current before
    /// (or `keyring.previous` on the first call). Until the first call the program leaves SYNs to the
    /// data plane.
    public func setCookieKeys(_ keyring: SynCookieKeyring) throws(XDPError) {
        let ready = configFlags & UInt32(SLUICE_CONFIG_COOKIE_READY) != 0
        let slot: UInt32 = ready ? 1 - cookieSlot : 0
        if !ready, let previous = keyring.previous { try writeCookieKey(previous, slot: 1) }
        try writeCookieKey(keyring.current, slot: slot)
        var flags = configFlags | UInt32(SLUICE_CONFIG_COOKIE_READY)
        flags &= ~UInt32(SLUICE_CONFIG_COOKIE_SLOT1)
        if slot == 1 { flags |= UInt32(SLUICE_CONFIG_COOKIE_SLOT1) }
        try writeConfig(range: portRange, flags: flags, "select cookie key in \(SLUICE_MAP_CONFIG)")
        cookieSlot = slot
    }

    private func writeCookieKey(_ key: (UInt64, UInt64), slot: UInt32) throws(XDPError) {
        var index = slot
        var value = sluice_cookie_key(k0: key.0, k1: key.1)
        let rc = unsafe bpf_map_update_elem(cookieKeysMap, &index, &value, UInt64(BPF_ANY))
        guard rc == 0 else {
            throw XDPError.fromReturn(rc, "set cookie key in \(SLUICE_MAP_COOKIE_KEYS)", interfaceName)
        }
    }

    /// Writes `sluice_config` whole (one update, so the program sees either the old or the new value).
    private func writeConfig(range: ClosedRange<UInt16>?, flags: UInt32, _ operation: String) throws(XDPError) {
        var key: UInt32 = 0
        // port_high == 0 disables LIP steering; a range ending at port 0 could only be 0...0, which owns nothing.
        var value = sluice_config(port_low: range?.lowerBound ?? 0, port_high: range?.upperBound ?? 0, flags: flags)
        let rc = unsafe bpf_map_update_elem(configMap, &key, &value, UInt64(BPF_ANY))
        guard rc == 0 else { throw XDPError.fromReturn(rc, operation, interfaceName) }
        portRange = range
        configFlags = flags
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

    /// Makes the maps match a configuration: adds what is new, removes what is gone, sets the port range,
    /// and updates services whose SYN answering changed (`SynAnswerParameters.answering`; none when
    /// `transmitWorks` is false). Entries that stay are replaced in one update or not touched, so steering
    /// never flickers during a reload.
    public func apply(configuration: DataplaneConfiguration) throws(XDPError) {
        let wanted = SteeredService.steering(for: configuration)
        let answers = transmitWorks && answersSYNs ? SynAnswerParameters.answering(for: configuration) : [:]
        try setPortRange(configuration.localPortRange)
        for service in wanted.services {
            let answer = answers[service]
            if let installed = installedServices[service], installed == answer { continue }
            try setVIP(address: service.address, port: service.port, protocol: service.transport, synAnswer: answer)
        }
        for address in wanted.localAddresses.subtracting(installedLocalAddresses) {
            try setLocalAddress(address)
        }
        for service in Set(installedServices.keys).subtracting(wanted.services) {
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
