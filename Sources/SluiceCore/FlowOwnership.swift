// Which worker owns a frame (docs/design.md §2 "Ownership"). Every worker has its own connection table,
// so a frame must be processed by the worker holding its connection, whichever RX queue the NIC put it
// on. Ownership is a function of the frame's own tuple, fixed for the life of the process, so any worker
// can tell where a frame belongs without shared state:
//
// - towards a local address (a real server's reply, RIP:rport → LIP:lport): the worker whose slice of the
//   local ports holds lport (PortPool.owner: lport mod workers);
// - towards a virtual service (CIP:cport → VIP:vport): the worker of the RX queue a NIC with this RSS
//   hash key and indirection table would pick, the Toeplitz hash of (CIP, VIP, cport, vport). With the
//   NIC's own key and table the owner is the worker that received the frame and nothing is handed off;
//   without them (veth has no RSS), Microsoft's default key and an even table spread the clients.
//
// The worker that opens a connection is the client tuple's owner and takes a local port from its own
// slice, so both of the connection's tuples name the same worker. A gateway with the same worker count
// and key computes the same owners, which is what lets a connection synced from a peer (docs/sync.md)
// land in the worker that will see its frames. Not depending on where the NIC delivers frames also
// means a changed channel count or indirection table at runtime costs hand-offs, never connections.
//
// RSS-aware local ports: when the key and table are the NIC's own (`knowsNICQueues`), the NIC's choice
// of queue for a real server's reply can be computed too, from the reply tuple (RIP, LIP, rport, lport).
// A worker then prefers, among the free ports of its slice, one whose reply the NIC will deliver to
// its own queue (`Dataplane.findLocalPort`), so replies need no hand-off either. It is a preference,
// never a rule: ownership stays with the port's slice, and a reply the prediction missed is handed over
// and counted (`replies_handed_off`).

import SluicePacket

/// The owner of a frame's connection among a process's workers.
public struct FlowOwnership: Sendable {
    /// Workers of the process.
    public let workerCount: Int
    @usableFromInline let hash: ToeplitzHash
    /// RX queue per hash bucket; worker q serves queue q.
    @usableFromInline let indirection: RSSIndirection
    /// True when the key and table are the NIC's, so `predictedWorker` says where the NIC delivers.
    public let knowsNICQueues: Bool
    /// True when NIC rules send every reply to the queue of its local port's owner
    /// (`dataplane.ntuple_rules`): any port of the slice is then steered, and no RSS preference applies.
    public let repliesSteeredByRules: Bool

    /// - Parameters:
    ///   - workerCount: workers of the process.
    ///   - key: the RSS hash key (the NIC's when known); nil or unusable falls back to Microsoft's default.
    ///   - indirection: the NIC's indirection table when known; nil spreads buckets evenly over the workers.
    ///   - repliesSteeredByRules: NIC rules deliver each reply to its local port's owner.
    public init(
        workerCount: Int, key: [UInt8]? = nil, indirection: RSSIndirection? = nil, repliesSteeredByRules: Bool = false
    ) {
        self.repliesSteeredByRules = repliesSteeredByRules
        precondition(workerCount >= 1)
        self.workerCount = workerCount
        let nicHash = key.flatMap { ToeplitzHash(key: $0) }
        self.hash = nicHash ?? ToeplitzHash(key: ToeplitzHash.microsoftDefaultKey)!
        self.indirection = indirection ?? RSSIndirection.roundRobin(queues: workerCount)
        self.knowsNICQueues = nicHash != nil && indirection != nil
    }

    /// The worker whose RX queue the NIC delivers a frame with this tuple to (meaningful only when
    /// `knowsNICQueues`).
    @inlinable
    public func predictedWorker(of key: FlowKey) -> Int {
        let value = hash.hash(
            source: key.source, destination: key.destination, sourcePort: key.sourcePort,
            destinationPort: key.destinationPort)
        return Int(indirection.queue(for: value)) % workerCount
    }

    /// The worker that owns a client's flow to a virtual service, by its tuple as received.
    @inlinable
    public func owner(ofClientFlow key: FlowKey) -> Int { predictedWorker(of: key) }

    /// The worker that owns a reply to local port `port`.
    @inlinable
    public func owner(ofLocalPort port: UInt16) -> Int { PortPool.owner(ofPort: port, workerCount: workerCount) }
}
