// ADDRESS:PORT arguments are checked when the command line is parsed, so a typo is a usage error
// (exit status 64) that names the argument, rather than a request the daemon has to refuse.

import ArgumentParser
import SluiceAdmin

extension AdminEndpoint {
    /// The `transform` of an ADDRESS:PORT argument.
    static func argument(_ text: String) throws -> AdminEndpoint {
        guard let endpoint = AdminEndpoint(parsing: text) else {
            throw ValidationError("expected ADDRESS:PORT (IPv6 in brackets), got \"\(text)\"")
        }
        return endpoint
    }
}
