// `global.log_level` applies at once on reload: every logger of the process reads its level from one
// shared value instead of holding a copy, so a reload that changes it reaches the services that
// logged with the old level too.

import Logging
import Synchronization

/// The process-wide log level and the log handler that follows it.
public enum LogLevelControl {
    private static let level = Atomic<UInt8>(LogLevelControl.code(.info))
    private static let levels = Logger.Level.allCases

    static func code(_ level: Logger.Level) -> UInt8 { UInt8(Logger.Level.allCases.firstIndex(of: level) ?? 0) }

    /// The level every handler made by `handler(label:)` uses now.
    public static var current: Logger.Level {
        get { levels[Int(level.load(ordering: .relaxed))] }
        set { level.store(code(newValue), ordering: .relaxed) }
    }

    /// A stderr handler whose level is `current`.
    public static func handler(label: String) -> any LogHandler {
        SharedLevelHandler(inner: StreamLogHandler.standardError(label: label))
    }
}

/// Wraps a handler; its level is LogLevelControl's, whatever a logger copy sets.
struct SharedLevelHandler: LogHandler {
    var inner: StreamLogHandler

    var logLevel: Logger.Level {
        get { LogLevelControl.current }
        set { LogLevelControl.current = newValue }
    }

    var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        inner.log(event: event)
    }
}
