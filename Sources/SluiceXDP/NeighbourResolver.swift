// Workers never resolve neighbours themselves (docs/design.md §1: the kernel owns ARP/ND). When the data plane
// reports a next hop without a MAC, the worker hands it to this hook once per batch; the netlink mirror's
// `requestResolution(address:interfaceIndex:)` is the intended target. It runs on the worker thread, so
// it must be quick and thread-safe (queue the request, do not wait for the answer).

import SluicePacket

/// Asks for a next hop's link-layer address to be resolved.
public struct NeighbourResolver: Sendable {
    private let body: @Sendable (IPAddress, Int32) -> Void

    /// - Parameter body: called with the address and the interface index; must not block.
    public init(_ body: @escaping @Sendable (_ address: IPAddress, _ interfaceIndex: Int32) -> Void) {
        self.body = body
    }

    /// Requests resolution of `address` on `interfaceIndex`.
    public func requestResolution(address: IPAddress, interfaceIndex: Int32) {
        body(address, interfaceIndex)
    }

    /// A resolver that ignores requests (tests, or when the kernel resolves on its own).
    public static let none = NeighbourResolver { _, _ in }
}

extension NeighbourResolver {
    /// Requests go to the netlink mirror, which asks the kernel (rate-limited there).
    public init(_ mirror: NetlinkMirror) {
        self.init { address, interfaceIndex in
            _ = mirror.requestResolution(address: address, interfaceIndex: interfaceIndex)
        }
    }
}
