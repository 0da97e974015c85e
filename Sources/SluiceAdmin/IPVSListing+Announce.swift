// `sluicectl announce`: one line per VIP, announced or withdrawn, with the reason.

extension IPVSListing {
    /// `VIP  STATE  REASON` lines under a header.
    public static func announcements(_ decisions: [VIPAnnouncement]) -> String {
        let width = max(16, decisions.map(\.vip.count).max() ?? 0) + 2
        func pad(_ s: String, _ n: Int) -> String {
            s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count)
        }
        var out = pad("VIP", width) + pad("State", 11) + "Reason\n"
        for d in decisions {
            out += pad(d.vip, width) + pad(d.announced ? "announced" : "withdrawn", 11) + d.reason + "\n"
        }
        return out
    }
}
