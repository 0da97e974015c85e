// The hand-over from the control plane to the data plane: resolve group names into addresses and
// copy the limits into SluiceCore's immutable DataplaneConfiguration (docs/design.md §2: built off the
// hot path, picked up by each worker at a batch boundary).

import SluiceCore

extension SluiceConfiguration {
    /// The data plane's view of this configuration.
    public func dataplaneConfiguration() -> DataplaneConfiguration {
        let services = virtualServers.map { server in
            VirtualServiceConfiguration(
                name: server.name, vip: server.vip, port: server.port, transport: server.transport,
                scheduler: server.scheduler,
                localAddresses: localAddressGroup(named: server.localAddressGroup)?.addresses ?? [],
                synProxy: server.synProxy, clientAddress: server.clientAddress,
                clientAddressOptions: server.clientAddressOptions, establishTimeout: server.establishTimeout,
                realServers: server.realServers, mhFallback: server.mhFallback, mhPort: server.mhPort,
                persistenceTimeout: server.persistenceTimeout, persistenceNetmask: server.persistenceNetmask,
                expireQuiescentTemplate: server.expireQuiescentTemplate, synProxyAuto: server.synProxyAuto
            )
        }
        var result = DataplaneConfiguration(
            services: services, localPortRange: dataplane.localPortRange,
            connectionCapacity: dataplane.connectionCapacity, timeouts: dataplane.timeouts,
            mssClamp: dataplane.mssClamp, decrementTTL: dataplane.decrementTTL, synProxy: synProxy,
            schedulerSeed: dataplane.schedulerSeed, maglevTableSize: dataplane.maglevTableSize,
            udpFlowLimit: dataplane.udpFlowLimit, udpSourceFlowLimit: dataplane.udpSourceFlowLimit
        )
        result.syncOutboxCapacity = sync == nil ? 0 : SyncOptions.outboxCapacity
        return result
    }
}
