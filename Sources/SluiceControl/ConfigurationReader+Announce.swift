// `announce:` — how the VIPs reach the routers: `method` none (only the pull endpoint and metrics),
// bird (an include file and `configure` on BIRD's control socket) or exec (a hook per change), the
// withdrawal grace at shutdown and an optional drain file.

import Yams

extension ConfigurationReader {
    static let announceKeys = ["method", "bird", "exec", "shutdown_grace", "drain_file"]
    static let birdKeys = ["control_socket", "include_file", "include_file6"]

    func readAnnounce(_ node: Node, at path: String) -> SluiceConfiguration.AnnounceOptions? {
        guard let f = fields(of: node, at: path, allowed: Self.announceKeys) else { return nil }
        func at(_ key: String) -> String { Self.child(path, key) }
        var options = SluiceConfiguration.AnnounceOptions()
        var complete = true
        if let method = f["method"] {
            if let value = choice(method, at: at("method"), of: SluiceConfiguration.AnnounceOptions.Method.self) {
                options.method = value
            } else {
                complete = false
            }
        }
        if let bird = f["bird"], let b = fields(of: bird, at: at("bird"), allowed: Self.birdKeys) {
            if let value = b["include_file6"] {
                if let text = absolutePath(value, at: Self.child(at("bird"), "include_file6")) {
                    options.birdIncludeFile6Setting = text
                } else {
                    complete = false
                }
            }
            for (key, keyPath) in [
                ("control_socket", \SluiceConfiguration.AnnounceOptions.birdControlSocket),
                ("include_file", \SluiceConfiguration.AnnounceOptions.birdIncludeFile),
            ] {
                guard let value = b[key] else { continue }
                if let text = absolutePath(value, at: Self.child(at("bird"), key)) {
                    options[keyPath: keyPath] = text
                } else {
                    complete = false
                }
            }
        } else if f["bird"] != nil {
            complete = false
        }
        if let exec = f["exec"] {
            if let command = readExecCheck(exec, at: at("exec")) { options.command = command } else { complete = false }
        }
        if let grace = f["shutdown_grace"] {
            if let ms = milliseconds(grace, at: at("shutdown_grace"), minimum: 0) {
                options.shutdownGraceMilliseconds = ms
            } else {
                complete = false
            }
        }
        if let drain = f["drain_file"] {
            if let text = absolutePath(drain, at: at("drain_file")) {
                options.drainFile = text
            } else {
                complete = false
            }
        }
        if options.method == .exec && options.command.isEmpty && complete {
            error(at("exec"), "method exec needs exec: { command: [/absolute/program, args...] }", at: node)
            complete = false
        }
        return complete ? options : nil
    }

    /// A non-empty absolute path.
    func absolutePath(_ node: Node, at path: String) -> String? {
        guard let text = string(node, at: path) else { return nil }
        guard text.hasPrefix("/"), text.count > 1 else {
            error(path, "expected an absolute path, got \"\(text)\"", at: node)
            return nil
        }
        return text
    }
}
