// The data plane as a service: the runtime is built and started before the group runs (a failure
// there is a start-up error, not a service failure); this service only waits for the graceful
// shutdown and then stops the workers and detaches the programs. It is the first service of the
// group, so it is the last to stop: checks, reloads and stats end before the data plane does.

import Logging
import ServiceLifecycle
import SluiceCore
import SluiceXDP

extension DataPlaneRuntime: DataPlaneSink {
    public func publish(_ configuration: DataplaneConfiguration) throws {
        try update(configuration: configuration)
    }
}

/// Stops the AF_XDP runtime on graceful shutdown.
public struct DataPlaneService: Service {
    let runtime: DataPlaneRuntime
    let logger: Logger

    public init(runtime: DataPlaneRuntime, logger: Logger) {
        self.runtime = runtime
        self.logger = logger
    }

    public func run() async throws {
        try? await gracefulShutdown()
        let clock = ContinuousClock()
        let started = clock.now
        let failures = runtime.stop()
        for failure in failures { logger.error("event=detach_failed error=\"\(failure)\"") }
        logger.info("event=dataplane_stopped duration=\(clock.now - started) xdp=detached")
        if let first = failures.first { throw first }
    }
}
