// A named pool of local addresses (LIPs), dpvs's `local_address_group`: FULLNAT sources every
// connection to a real server from one of these, so the real servers need only a route back to them.

import SluicePacket

/// A named list of local addresses.
public struct LocalAddressGroup: Sendable, Hashable {
    /// The group's name, as referenced by `virtual_servers[].local_address_group`.
    public var name: String
    /// The addresses, in file order, without duplicates.
    public var addresses: [IPAddress]

    public init(name: String, addresses: [IPAddress]) {
        self.name = name
        self.addresses = addresses
    }
}
