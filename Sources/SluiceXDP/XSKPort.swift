// One AF_XDP socket as the hot loop sees it: its four rings, its fd for wakeups, the side it serves, and
// the loop's bookkeeping (slots written but not yet published, frames sent but not yet completed). A plain
// struct of pointers and integers held inside `WorkerCore`: no reference counting on the hot path.

import SluiceCore

/// The rings of one socket plus the worker loop's per-socket bookkeeping.
@safe
struct XSKPort {
    var rx: RxRing
    var tx: TxRing
    var fill: FillRing
    var completion: CompletionRing
    /// The socket fd for sendto/recvfrom wakeups; -1 for simulated rings (no syscalls).
    let fd: Int32
    /// The side frames received here are reported as (`.external` for a socket serving both).
    let side: Side
    /// Fill slots written since the last submit.
    var fillPending: UInt32 = 0
    /// Tx slots written since the last submit.
    var txPending: UInt32 = 0
    /// Frames submitted for tx whose completion has not been seen; wraps never (bounded by the UMEM).
    var txOutstanding: UInt32 = 0

    init(rx: RxRing, tx: TxRing, fill: FillRing, completion: CompletionRing, fd: Int32, side: Side) {
        self.rx = rx
        self.tx = tx
        self.fill = fill
        self.completion = completion
        self.fd = fd
        self.side = side
    }
}
