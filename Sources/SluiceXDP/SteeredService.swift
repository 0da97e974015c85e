// What the steering program matches on for a virtual service: {VIP, port, protocol}. Kept as a plain value
// so the runtime can diff the installed set against a new configuration and touch only what changed.

import SluiceCore
import SluicePacket

/// A {VIP, port, protocol} triple installed in the steering program's `sluice_vips` map.
public struct SteeredService: Hashable, Sendable {
    public var address: IPAddress
    public var port: UInt16
    /// IP protocol number (6 = TCP, 17 = UDP).
    public var transport: UInt8

    public init(address: IPAddress, port: UInt16, transport: UInt8) {
        self.address = address
        self.port = port
        self.transport = transport
    }

    /// The services and local addresses a configuration asks the program to steer.
    public static func steering(for configuration: DataplaneConfiguration) -> (
        services: Set<SteeredService>, localAddresses: Set<IPAddress>
    ) {
        var services: Set<SteeredService> = []
        var locals: Set<IPAddress> = []
        for service in configuration.services {
            services.insert(
                SteeredService(address: service.vip, port: service.port, transport: service.transport.rawValue))
            locals.formUnion(service.localAddresses)
        }
        locals.formUnion(configuration.adoptedLocalAddresses)
        return (services, locals)
    }
}
