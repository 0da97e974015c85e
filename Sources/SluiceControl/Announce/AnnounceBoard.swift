// The announcer's latest decision, for the admin API (GET /v1/announce, the pull endpoint) and the
// metrics. Before the first decision every VIP reads as not announced.

import SluiceAdmin

/// The latest announcement decision per VIP.
public actor AnnounceBoard {
    public private(set) var decisions: [VIPAnnouncement] = []
    public private(set) var decided = false

    public init() {}

    public func publish(_ decisions: [VIPAnnouncement]) {
        self.decisions = decisions
        decided = true
    }
}
