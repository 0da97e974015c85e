// The release this build is, for `sluice --version`, the start-up log and (later) build info metrics.

/// Sluice's version.
public enum SluiceVersion {
    public static let current = "0.5.0-dev"
}
