// dh (net/netfilter/ipvs/ip_vs_dh.c): as sh, but the bucket is chosen by the connection's
// destination address. In IPVS that is the address the client sent to, which for a virtual service
// is its VIP (dh was made for transparent cache clusters, where the destination varies). Sluice is
// FULLNAT, so the destination is always the service's VIP: every connection of one service goes to
// the same server, the one the VIP hashes to, and services on different VIPs spread over the servers
// by weight. Ports do not enter the hash. The table, the seed and the quiescent rule are those of
// sh (SourceHash.swift).

/// IPVS destination hashing (of the VIP, for FULLNAT).
@usableFromInline
struct DestinationHash: SchedulingAlgorithm {
    @usableFromInline init() {}

    @inlinable
    mutating func pick(_ servers: borrowing SchedulerServers, flow: SchedulingFlow) -> Int? {
        servers.bucket(servers.hash(flow.vip, port: 0, salt: SchedulerServers.Salt.destinationHash))
    }

    @usableFromInline
    mutating func serversChanged(_ servers: inout SchedulerServers) {
        servers.fillHashBuckets()
    }
}
