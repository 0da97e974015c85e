// What one worker holds of its link with one other worker (HandOffMesh.swift): views of the four rings
// between them, the entries it wrote but has not yet published, and how to wake the peer. A plain struct
// of pointers and integers in memory the mesh owns, so the hot loop touches no reference-counted object.

import CXDP

/// One worker's end of its link with a peer worker.
@safe
struct HandOffPeer {
    /// Frames this worker received that the peer owns: descriptor (address, length, side) to the peer.
    var frames: TxRing
    /// Frames the peer received that this worker owns.
    var incoming: RxRing
    /// The peer's frames this worker is done with, going home.
    var returns: FillRing
    /// This worker's frames the peer is done with.
    var returned: CompletionRing
    /// Hand-off slots written since the last submit.
    var framesPending: UInt32 = 0
    /// Return slots written since the last submit.
    var returnsPending: UInt32 = 0
    /// The peer's "asleep in poll()" word (HandOffMesh.swift).
    let peerAsleep: UnsafeMutablePointer<UInt32>
    /// The peer's eventfd, written to wake it.
    let peerEventFD: Int32

    init(
        frames: TxRing, incoming: RxRing, returns: FillRing, returned: CompletionRing,
        peerAsleep: UnsafeMutablePointer<UInt32>, peerEventFD: Int32
    ) {
        self.frames = frames
        self.incoming = incoming
        self.returns = returns
        self.returned = returned
        unsafe self.peerAsleep = peerAsleep
        self.peerEventFD = peerEventFD
    }

    /// True when the peer has published frames or returns this worker has not taken yet. Reads the
    /// producers' indices with a full fence's ordering (the sleeper's side of the wakeup protocol).
    var hasWaiting: Bool {
        unsafe cxdp_load_seq_cst(incoming.ring.pointee.producer) != incoming.ring.pointee.consumer.pointee
            || cxdp_load_seq_cst(returned.ring.pointee.producer) != returned.ring.pointee.consumer.pointee
    }
}
