// One receive classification rule (what `ethtool -N IF flow-type tcp4 dst-ip LIP dst-port P m M action Q`
// installs) that steers a real server's replies to the RX queue of the worker owning their connection
// (issue "every queue, every core"; dpvs programs the same kind of rule through DPDK's flow director).
//
// Replies are addressed to LIP:lport, and a connection's lport comes from its worker's slice of the local
// ports: lport mod workers (PortPool.owner, FlowOwnership.swift). With a power-of-two worker count that
// is lport AND (workers − 1), which a NIC's port mask can express: one rule per LIP, transport and worker
// matches the low bits of the destination port and names that worker's queue. Any other worker count
// needs a modulo no NIC rule has, so `dataplane.ntuple_rules` asks for a power of two.

import SluiceCore
import SluicePacket

/// A rule sending TCP or UDP frames for one local address, whose destination port's low bits equal
/// `port`, to RX queue `queue`.
public struct NtupleRule: Sendable, Hashable, CustomStringConvertible {
    /// The local address (LIP) the frames are sent to.
    public var destination: IPAddress
    /// TCP or UDP.
    public var transport: TransportProtocol
    /// The destination port's value under `portMask`.
    public var port: UInt16
    /// Bits of the destination port that must equal `port`.
    public var portMask: UInt16
    /// The RX queue (worker q serves queue q).
    public var queue: UInt32

    public init(destination: IPAddress, transport: TransportProtocol, port: UInt16, portMask: UInt16, queue: UInt32) {
        self.destination = destination
        self.transport = transport
        self.port = port
        self.portMask = portMask
        self.queue = queue
    }

    /// True when `workers` workers can have their replies steered by port mask (1 needs no rule).
    public static func canSteer(workers: Int) -> Bool { workers >= 1 && workers.nonzeroBitCount == 1 }

    /// What to do about a worker count that is not a power of two, for error messages.
    public static func workerAdvice(workers: Int) -> String {
        var below = 1
        while below * 2 <= workers { below *= 2 }
        return "use \(below) or \(below * 2) workers, or turn dataplane.ntuple_rules off"
    }

    /// Every rule that steers replies to `localAddresses` to their owners among `workers` workers (a power
    /// of two, at least 2): for each address and transport, worker w's queue gets the ports whose low bits
    /// are w. Sorted, so that the same addresses always give the same list.
    public static func replySteering(localAddresses: Set<IPAddress>, workers: Int) -> [NtupleRule] {
        precondition(workers >= 2 && canSteer(workers: workers), "reply steering needs a power-of-two worker count")
        let mask = UInt16(workers - 1)
        var rules: [NtupleRule] = []
        for address in localAddresses.sorted(by: <) {
            for transport in TransportProtocol.allCases {
                for worker in 0..<workers {
                    rules.append(
                        NtupleRule(
                            destination: address, transport: transport, port: UInt16(worker), portMask: mask,
                            queue: UInt32(worker)))
                }
            }
        }
        return rules
    }

    /// The rule as `ethtool -N` would spell it (its `m` is the complement: bits to ignore).
    public var description: String {
        let family = destination.isV6 ? "6" : "4"
        let name = transport == .tcp ? "tcp" : "udp"
        let ignored = String(~portMask, radix: 16)
        return "flow-type \(name)\(family) dst-ip \(destination) dst-port \(port) m 0x\(ignored) action \(queue)"
    }
}
