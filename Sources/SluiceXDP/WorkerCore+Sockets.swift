// Building a WorkerCore straight from sockets: the UMEM area and geometry come from the sockets' shared
// UMEM, and the sockets are kept alive by the core. Used by Worker and by tests that drive real sockets.

import SluiceCore

extension WorkerCore where Processor: ~Copyable {
    /// A core over real AF_XDP sockets sharing one UMEM.
    init(
        processor: consuming Processor, network: NetworkView, external: XSKSocket, internal internalSocket: XSKSocket?,
        reserve: Int, resolver: NeighbourResolver = .none
    ) {
        precondition(internalSocket == nil || internalSocket!.umem === external.umem, "sockets must share a UMEM")
        let umem = external.umem
        unsafe self.init(
            processor: processor, network: network, area: umem.area, frameSize: umem.frameSize,
            frameCount: umem.frameCount, external: external.port(side: .external),
            internal: internalSocket?.port(side: .internal), reserve: reserve, resolver: resolver,
            owners: [external] + (internalSocket.map { [$0] } ?? []))
    }
}
