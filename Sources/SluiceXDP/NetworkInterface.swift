// Interface names → index, MAC and MTU for setup and error messages. The data plane itself reads
// interfaces from the NetworkView (rtnetlink); this is only for resolving configured names before the
// mirror runs. Lookups use if_nametoindex and ioctls on a socket, so they see the calling thread's network
// namespace (sysfs would show the namespace sysfs was mounted in).

import CXDP
import SluiceCore

#if canImport(Glibc)
    import Glibc
#endif

/// A network interface as resolved by name.
public struct NetworkInterface: Sendable, Hashable {
    /// The interface's name.
    public var name: String
    /// Its ifindex.
    public var index: Int32
    /// Its link-layer address (zero for interfaces without one).
    public var mac: MACAddress
    /// Its MTU.
    public var mtu: Int

    public init(name: String, index: Int32, mac: MACAddress, mtu: Int) {
        self.name = name
        self.index = index
        self.mac = mac
        self.mtu = mtu
    }

    /// Looks up an interface in the calling thread's network namespace.
    /// - Throws: `XDPError` with ENODEV when no interface has that name.
    public static func named(_ name: String) throws(XDPError) -> NetworkInterface {
        let index = unsafe if_nametoindex(name)
        guard index != 0 else {
            throw XDPError(operation: "look up interface", subject: name, code: ENODEV)
        }
        var bytes: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0)
        let macResult = unsafe withUnsafeMutableBytes(of: &bytes) { raw in
            unsafe cxdp_interface_mac(name, raw.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        guard macResult == 0 else { throw XDPError.fromErrno("read hardware address", name) }
        let mtu = unsafe cxdp_interface_mtu(name)
        guard mtu >= 0 else { throw XDPError.fromErrno("read MTU", name) }
        return NetworkInterface(
            name: name, index: Int32(bitPattern: index),
            mac: MACAddress(bytes.0, bytes.1, bytes.2, bytes.3, bytes.4, bytes.5), mtu: Int(mtu))
    }

    /// The interface's `InterfaceInfo` for a `NetworkView`.
    public var info: InterfaceInfo { InterfaceInfo(index: index, mac: mac, mtu: mtu) }
}
