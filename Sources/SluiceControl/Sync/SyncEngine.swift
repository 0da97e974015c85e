// The decisions of connection sync, apart from sockets and workers so that they can be tested with a
// manual clock (docs/sync.md):
// - sealing outgoing datagrams: each run has an epoch (its start, in ms since 1970) and numbers its
//   datagrams from 1, so peers can refuse replays; records are split `recordsPerMessage` a datagram;
// - taking incoming ones: only from a configured peer (address and port), only with the right tag,
//   only when new (SyncReplayWindow); each refusal is counted by reason;
// - peer liveness: a peer silent for `dead_after`, or one that said it is leaving, is dead, and its
//   LIPs (from its heartbeats) are adopted; a dead peer heard again gets them back as soon as its bulk
//   request has been answered (it then holds every connection this gateway carried for it), or after
//   `dead_after` alive if that request was lost. Not later: while both gateways answer for a LIP, the
//   replies to the returned peer's new, not yet synced connections may reach this one and be lost.

import SluiceCore
import SluicePacket

/// The sync group as this gateway sees it.
public struct SyncEngine<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    public let key: (UInt64, UInt64)
    public let epoch: UInt64
    public let deadAfter: Duration
    public internal(set) var peers: [SyncPeer<Instant>]
    var sequence: UInt64 = 0
    /// Refusals by reason (`SyncMessage.Refusal` names, plus `unknown_peer` and `replay`).
    public internal(set) var refused: [String: UInt64] = [:]
    public internal(set) var datagramsReceived: UInt64 = 0
    public internal(set) var recordsReceived: UInt64 = 0

    public init(key: (UInt64, UInt64), epoch: UInt64, peers: [SyncOptions.Endpoint], deadAfter: Duration) {
        self.key = key
        self.epoch = epoch
        self.deadAfter = deadAfter
        self.peers = peers.map { SyncPeer(endpoint: $0) }
    }

    /// A change of a peer's liveness, with the LIPs it moves.
    public enum Change: Sendable, Equatable {
        case lost(SyncOptions.Endpoint, adopted: [IPAddress])
        case back(SyncOptions.Endpoint, returned: [IPAddress])
    }

    /// What an accepted datagram asks for.
    public enum Delivery: Sendable, Equatable {
        case records([SyncRecord])
        case bulkRequest(SyncOptions.Endpoint)
        case nothing
    }

    /// The next datagrams for `kind` (records split a datagram's worth at a time).
    public mutating func seal(_ kind: SyncMessage.Kind, records: [SyncRecord] = [], addresses: [IPAddress] = [])
        -> [[UInt8]]
    {
        var out: [[UInt8]] = []
        var start = 0
        repeat {
            let end = min(start + SyncMessage.recordsPerMessage, records.count)
            sequence += 1
            let message = SyncMessage(
                kind: kind, epoch: epoch, sequence: sequence, records: Array(records[start..<end]),
                addresses: Array(addresses.prefix(SyncMessage.addressesPerMessage)))
            out.append(message.encode(key: key))
            start = end
        } while start < records.count
        return out
    }

    /// Takes a datagram from `source`.
    public mutating func receive(_ bytes: [UInt8], from source: SyncOptions.Endpoint, at now: Instant) -> Delivery {
        guard let index = peers.firstIndex(where: { $0.endpoint == source }) else {
            refused["unknown_peer", default: 0] += 1
            return .nothing
        }
        let message: SyncMessage
        switch SyncMessage.decode(bytes, key: key) {
        case .success(let m): message = m
        case .failure(let reason):
            refused[reason.rawValue, default: 0] += 1
            return .nothing
        }
        guard peers[index].window.accept(epoch: message.epoch, sequence: message.sequence) else {
            refused["replay", default: 0] += 1
            return .nothing
        }
        datagramsReceived += 1
        if message.kind == .leaving {
            // Dead now: the next `tick` adopts its LIPs without waiting for `dead_after`.
            peers[index].lastHeard = nil
            return .nothing
        }
        peers[index].lastHeard = now
        if !peers[index].alive {
            peers[index].alive = true
            peers[index].backSince = now
            peers[index].resynced = false
        }
        switch message.kind {
        case .entries:
            recordsReceived += UInt64(message.records.count)
            return .records(message.records)
        case .heartbeat:
            peers[index].localAddresses = message.addresses
            return .nothing
        case .bulkRequest:
            return .bulkRequest(source)
        case .leaving:
            return .nothing
        }
    }

    /// Applies the passage of time: peers that went silent die (their LIPs adopted), peers back long
    /// enough get their LIPs back.
    public mutating func tick(at now: Instant) -> [Change] {
        var changes: [Change] = []
        for i in peers.indices where peers[i].alive {
            let silent = peers[i].lastHeard.map { $0.duration(to: now) >= deadAfter } ?? true
            if silent {
                peers[i].alive = false
                peers[i].backSince = nil
                if !peers[i].adopted && !peers[i].localAddresses.isEmpty {
                    peers[i].adopted = true
                    changes.append(.lost(peers[i].endpoint, adopted: peers[i].localAddresses))
                }
            } else if peers[i].adopted, let back = peers[i].backSince,
                peers[i].resynced || back.duration(to: now) >= deadAfter
            {
                peers[i].adopted = false
                changes.append(.back(peers[i].endpoint, returned: peers[i].localAddresses))
            }
        }
        return changes
    }

    /// Notes that `peer` has been sent the whole table (its bulk request answered).
    public mutating func answeredBulkRequest(of peer: SyncOptions.Endpoint) {
        guard let index = peers.firstIndex(where: { $0.endpoint == peer }) else { return }
        peers[index].resynced = true
    }

    /// The LIPs of every peer whose LIPs this gateway answers for.
    public var adoptedLocalAddresses: [IPAddress] {
        peers.filter(\.adopted).flatMap(\.localAddresses)
    }
}
