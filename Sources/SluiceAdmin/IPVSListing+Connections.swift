// ipvsadm -Lnc, with dpvs's local address column between the virtual and the destination address:
// under FULLNAT the real server sees the local address (LIP:lport) as its client, so that column is what
// ties a connection on the gateway to one in the real server's own `ss` output.

extension IPVSListing {
    /// The connection listing, one line per entry, in the order given.
    public static func connections(_ entries: [ConnectionEntry]) -> String {
        let columns = ["state".leftJustified(11), "source".leftJustified(18), "virtual".leftJustified(18)]
        var lines = [
            "IPVS connection entries",
            "pro expire " + (columns + ["local".leftJustified(18), "destination"]).joined(separator: " "),
        ]
        for entry in entries {
            lines.append(
                [
                    protocolName(entry.protocol).leftJustified(3),
                    expiry(milliseconds: entry.expiresInMilliseconds).leftJustified(6),
                    entry.state.leftJustified(11),
                    endpoint(entry.client, entry.clientPort).leftJustified(18),
                    endpoint(entry.vip, entry.vport).leftJustified(18),
                    endpoint(entry.local, entry.localPort).leftJustified(18),
                    endpoint(entry.server, entry.serverPort),
                ]
                .joined(separator: " "))
        }
        return lines.map { $0 + "\n" }.joined()
    }

    /// ipvsadm's expire column, `%02d:%02d` minutes and seconds; the kernel rounds down to whole seconds
    /// and so does this.
    public static func expiry(milliseconds: UInt64) -> String {
        let seconds = milliseconds / 1_000
        return String(seconds / 60).rightJustified(2).replacingSpaces(with: "0") + ":"
            + String(seconds % 60).rightJustified(2).replacingSpaces(with: "0")
    }
}

extension String {
    /// `%02d`: the padding of a right-justified number is zeros.
    fileprivate func replacingSpaces(with pad: Character) -> String {
        String(map { $0 == " " ? pad : $0 })
    }
}
