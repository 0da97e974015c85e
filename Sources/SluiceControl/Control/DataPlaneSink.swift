// Where the control plane's one path ends: something that takes a validated data-plane
// configuration and hands it to the workers. The daemon's is the AF_XDP runtime; tests use a fake
// that records what it was given.

import SluiceCore

/// Receives every new data-plane configuration.
public protocol DataPlaneSink: Sendable {
    func publish(_ configuration: DataplaneConfiguration) throws
}
