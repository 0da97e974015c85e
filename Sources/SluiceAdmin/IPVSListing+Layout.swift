// Which of ipvsadm's service listings to render.

extension IPVSListing {
    /// `ipvsadm -Ln` (plain), `-Ln --stats` or `-Ln --rate`.
    public enum Layout: Sendable, Equatable {
        /// Scheduler, flags, forwarding method, weight and connection counts.
        case plain
        /// Totals since start: Conns, InPkts, OutPkts, InBytes, OutBytes.
        case stats
        /// Per-second rates: CPS, InPPS, OutPPS, InBPS, OutBPS.
        case rate
    }
}
