// SIGHUP: read and validate the file (on the cooperative pool, never on the thread that receives
// signals), then hand it to the control plane, which applies the difference or refuses it. A file
// that does not load leaves everything running as it was, with every problem logged.

import Logging
import ServiceLifecycle
import SluiceAdmin
import UnixSignals

/// Reloads the configuration file on SIGHUP.
public struct ReloadService: Service {
    let path: String
    let control: ControlPlane
    let logger: Logger

    public init(path: String, control: ControlPlane, logger: Logger) {
        self.path = path
        self.control = control
        self.logger = logger
    }

    public func run() async {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            await reload()
        }
    }

    /// One reload from the file; what it did.
    @discardableResult
    public func reload() async -> ReloadResult {
        let path = self.path
        let loaded = await Task.detached { () -> Result<SluiceConfiguration, ConfigurationError> in
            do throws(ConfigurationError) {
                return .success(try ConfigurationLoader.load(path: path))
            } catch {
                return .failure(error)
            }
        }.value
        switch loaded {
        case .success(let configuration):
            for warning in configuration.warnings { logger.warning("\(warning.line(file: path))") }
            let diff = await control.reload(to: configuration)
            return ReloadResult(
                applied: !diff.isRefused, changes: diff.isRefused ? [] : diff.changes,
                problems: diff.restartRequired.map { "\($0): needs a restart" })
        case .failure(let error):
            for problem in error.problems {
                logger.error("event=reload_refused reason=invalid_file \(problem.line(file: error.file))")
            }
            await control.reloadFailed()
            return ReloadResult(applied: false, changes: [], problems: error.problems.map { $0.line(file: error.file) })
        }
    }
}
