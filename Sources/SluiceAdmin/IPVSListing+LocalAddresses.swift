// dpvs's `ipvsadm -G` table of local addresses (LIPs), with its columns and widths. dpvs lists LIPs
// under the virtual server that owns them; Sluice's LIPs belong to a local address group shared by
// virtual servers, so the group takes the first column where dpvs has VIP:VPORT. CONFLICTS is dpvs's
// count of failed port allocations, CONNS the ports in use (one per connection through that LIP), and
// FREE, added after dpvs's last column, the ports left.

extension IPVSListing {
    /// One line per group (its name and number of LIPs), then one per LIP, groups in order of appearance.
    public static func localAddresses(_ usage: [LocalAddressUsage]) -> String {
        var lines = [
            ["GROUP".leftJustified(20), "TOTAL".leftJustified(8), "SNAT_IP".leftJustified(20)]
                .joined(separator: " ") + " " + "CONFLICTS".leftJustified(10) + " " + "CONNS".leftJustified(10)
                + " FREE"
        ]
        var groups: [String] = []
        for entry in usage where !groups.contains(entry.group) { groups.append(entry.group) }
        for group in groups {
            let members = usage.filter { $0.group == group }
            // dpvs's "%-20s %-8u \n": the trailing space is part of its layout.
            lines.append(group.leftJustified(20) + " " + String(members.count).leftJustified(8) + " ")
            for lip in members {
                lines.append(
                    "".leftJustified(20) + " " + "".leftJustified(8) + " " + lip.address.leftJustified(20) + " "
                        + String(lip.allocationFailures).leftJustified(10) + " "
                        + String(lip.portsUsed).leftJustified(10) + " " + String(lip.portsFree))
            }
        }
        return lines.map { $0 + "\n" }.joined()
    }
}
