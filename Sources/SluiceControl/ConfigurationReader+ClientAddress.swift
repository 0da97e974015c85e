// The keys that tune a virtual server's `client_address` mode: `toa_option_kind` (toa) and the
// `proxy_protocol:` block (proxy_protocol_v1 / proxy_protocol_v2). Each key is refused outright
// when the service's mode does not use it, rather than ignored: a `proxy_protocol: {crc32c: true}`
// left on a toa service would otherwise read as if the real server were getting a checksum.
//
// TOA kinds that TCP itself defines and that Linux or Sluice parse are refused: the real server's
// kernel would read the address bytes as that option (a "kind 8" TOA would become a timestamp),
// and Sluice's own option walker would treat it as the standard option. Experimental and
// unassigned kinds stay allowed because deployed toa.ko builds differ (254 in dpvs, 253 in
// Alibaba's IPv6 form, 252 seen elsewhere).

import SluiceCore
import Yams

extension ConfigurationReader {
    static let proxyProtocolKeys = ["send_on_connect", "unique_id", "crc32c", "passthrough"]

    /// TCP option kinds a TOA option may not use, with the option each one already is.
    static let reservedTOAKinds: [Int: String] = [
        0: "end of option list", 1: "no-operation", 2: "maximum segment size", 3: "window scale",
        4: "SACK permitted", 5: "SACK", 6: "echo", 7: "echo reply", 8: "timestamps", 19: "MD5 signature",
        28: "user timeout", 29: "TCP-AO", 30: "multipath TCP", 34: "TCP Fast Open",
    ]

    /// Reads `toa_option_kind` and `proxy_protocol` of one virtual server (its fields `f`, at `path`).
    /// `mode` is the service's `client_address`, nil when that value had a problem (then only the
    /// values themselves are checked, not whether they fit the mode). Nil after a recorded problem.
    func readClientAddressOptions(
        _ f: [String: Node], mode: ClientAddressMode?, at path: String
    ) -> ClientAddressOptions? {
        var options = ClientAddressOptions()
        var complete = true

        if let node = f["toa_option_kind"] {
            let kindPath = Self.child(path, "toa_option_kind")
            if let kind = toaKind(node, at: kindPath) {
                options.toaKind = kind
            } else {
                complete = false
            }
            if let mode, mode != .toa {
                error(
                    kindPath, "toa_option_kind applies only to client_address: toa (this service has \(mode.rawValue))",
                    at: node)
                complete = false
            }
        }

        if let node = f["proxy_protocol"] {
            let blockPath = Self.child(path, "proxy_protocol")
            if let mode, mode != .proxyProtocolV1 && mode != .proxyProtocolV2 {
                error(
                    blockPath,
                    "proxy_protocol applies only to client_address: proxy_protocol_v1 or proxy_protocol_v2 "
                        + "(this service has \(mode.rawValue))",
                    at: node)
                complete = false
            }
            if let block = readProxyProtocol(node, mode: mode, at: blockPath) {
                options.sendOnConnect = block.sendOnConnect
                options.uniqueID = block.uniqueID
                options.crc32c = block.crc32c
                options.passthrough = block.passthrough
            } else {
                complete = false
            }
        }
        return complete ? options : nil
    }

    /// A TCP option kind in 0...255 that TCP does not already use for something Linux or Sluice parses.
    func toaKind(_ node: Node, at path: String) -> UInt8? {
        guard let kind = integer(node, at: path, in: 0...255) else { return nil }
        if let name = Self.reservedTOAKinds[kind] {
            error(
                path,
                "\(kind) is the TCP \(name) option kind, which Sluice and the real server's kernel parse as "
                    + "such; use an experimental or unassigned kind (254, the default; 253)",
                at: node)
            return nil
        }
        return UInt8(kind)
    }

    /// The `proxy_protocol:` block. `unique_id` and `crc32c` are v2 TLVs, so turning them on for a v1
    /// service is an error; `send_on_connect` with `passthrough` is one too, because a header sent as
    /// soon as the real server's handshake completes always precedes anything the client sends.
    func readProxyProtocol(_ node: Node, mode: ClientAddressMode?, at path: String) -> ClientAddressOptions? {
        guard let f = fields(of: node, at: path, allowed: Self.proxyProtocolKeys) else { return nil }
        var options = ClientAddressOptions()
        var complete = true
        func flag(_ key: String) -> Bool {
            guard let value = f[key] else { return false }
            guard let set = boolean(value, at: Self.child(path, key)) else {
                complete = false
                return false
            }
            return set
        }
        options.sendOnConnect = flag("send_on_connect")
        options.uniqueID = flag("unique_id")
        options.crc32c = flag("crc32c")
        options.passthrough = flag("passthrough")

        if mode == .proxyProtocolV1 {
            for (key, set) in [("unique_id", options.uniqueID), ("crc32c", options.crc32c)] where set {
                error(
                    Self.child(path, key),
                    "\(key) is a PROXY protocol v2 TLV and v1 headers carry none; "
                        + "use client_address: proxy_protocol_v2 or remove it",
                    at: f[key])
                complete = false
            }
        }
        if options.sendOnConnect && options.passthrough {
            error(
                Self.child(path, "passthrough"),
                "passthrough cannot be combined with send_on_connect: with send_on_connect Sluice sends its "
                    + "header as soon as the real server's handshake completes, before the client could send one",
                at: f["passthrough"])
            complete = false
        }
        return complete ? options : nil
    }
}
