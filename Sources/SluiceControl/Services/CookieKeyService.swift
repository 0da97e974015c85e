// SYN-cookie key rotation and the XDP_TX re-check, moved out of the runtime so that no thread holds
// a lock while it waits: every 120 s a new key goes to the workers, the service waits (on the clock,
// at most `handoverLimit`) until each worker holds it, and only then do the steering programs answer
// with it, so no worker meets a cookie made with a key it does not hold. Every 5 s it asks whether
// XDP_TX works on each interface.

import Foundation
import Logging
import ServiceLifecycle
import SluiceXDP

/// What the cookie-key service needs of the data plane (the AF_XDP runtime, or a fake in tests).
public protocol CookieKeyRuntime: Sendable {
    func publishCookieKey() -> UInt64
    func publishCookieKey(_ key: (UInt64, UInt64)) -> UInt64
    func workersHoldCookieKey(_ generation: UInt64) -> Bool
    func installCookieKeyInPrograms() throws(XDPError)
    func refreshTransmitCheck() throws(XDPError)
}

extension DataPlaneRuntime: CookieKeyRuntime {}

/// Rotates the SYN-cookie key and re-checks XDP_TX.
public struct CookieKeyService<C: Clock>: Service where C.Duration == Duration {
    let runtime: any CookieKeyRuntime
    let clock: C
    let logger: Logger
    /// `synproxy.key_file`: keys derived from it on wall-clock epochs instead of random ones.
    let keyFile: String?
    let wallClock: @Sendable () -> Double
    public static var rotationInterval: Duration { .milliseconds(DataPlaneRuntime.cookieKeyRotationMilliseconds) }
    public static var transmitCheckInterval: Duration { .milliseconds(DataPlaneRuntime.transmitCheckMilliseconds) }
    /// The longest wait for the workers to take a new key (a stalled worker is not waited for).
    public static var handoverLimit: Duration { .seconds(1) }
    static var handoverPoll: Duration { .milliseconds(1) }

    public init(
        runtime: any CookieKeyRuntime, clock: C, logger: Logger, keyFile: String? = nil,
        wallClock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) {
        self.runtime = runtime
        self.clock = clock
        self.logger = logger
        self.keyFile = keyFile
        self.wallClock = wallClock
    }

    public func run() async throws {
        do {
            try await rotateUntilShutdown()
        } catch is CancellationError {
            // The graceful shutdown: nothing to undo.
        }
    }

    private func rotateUntilShutdown() async throws {
        if let keyFile {
            try await cancelWhenGracefulShutdown { try await followKeyFile(keyFile) }
            return
        }
        try await cancelWhenGracefulShutdown {
            var nextRotation = clock.now.advanced(by: Self.rotationInterval)
            var nextCheck = clock.now.advanced(by: Self.transmitCheckInterval)
            while true {
                try await clock.sleep(until: min(nextRotation, nextCheck), tolerance: nil)
                if clock.now >= nextRotation {
                    try await rotate()
                    nextRotation = nextRotation.advanced(by: Self.rotationInterval)
                }
                if clock.now >= nextCheck {
                    do { try runtime.refreshTransmitCheck() } catch {
                        logger.warning("event=xdp_transmit_check_failed error=\"\(error)\"")
                    }
                    nextCheck = nextCheck.advanced(by: Self.transmitCheckInterval)
                }
            }
        }
    }

    /// With a key file: at each wall-clock epoch the epoch's key becomes current (every gateway of the
    /// group switches at the same second); a changed file is read again and its key used at once. The
    /// file is looked at every second; the transmit check keeps its own pace.
    func followKeyFile(_ path: String) async throws {
        var file = try? CookieKeyFile.load(path: path)
        var modified = Self.modificationDate(path)
        var epoch = CookieKeyFile.epoch(at: wallClock())
        var nextCheck = clock.now.advanced(by: Self.transmitCheckInterval)
        var failing = false
        while true {
            try await clock.sleep(until: clock.now.advanced(by: .seconds(1)), tolerance: nil)
            let now = CookieKeyFile.epoch(at: wallClock())
            let stamp = Self.modificationDate(path)
            if stamp != modified {
                modified = stamp
                do {
                    let fresh = try CookieKeyFile.load(path: path)
                    if fresh != file {
                        file = fresh
                        logger.notice("event=cookie_key_file_changed path=\(path) key rotated")
                        try await rotate(to: fresh.key(epoch: now))
                        epoch = now
                    }
                    failing = false
                } catch {
                    if !failing {
                        logger.error("event=cookie_key_file_unusable error=\"\(error)\" keeping the last key")
                    }
                    failing = true
                }
            }
            if now != epoch, let file {
                epoch = now
                try await rotate(to: file.key(epoch: now))
            }
            if clock.now >= nextCheck {
                try? runtime.refreshTransmitCheck()
                nextCheck = nextCheck.advanced(by: Self.transmitCheckInterval)
            }
        }
    }

    static func modificationDate(_ path: String) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
    }

    /// One rotation to a random key: publish, wait for the workers, switch the programs.
    public func rotate() async throws {
        try await handOver(runtime.publishCookieKey())
    }

    /// One rotation to `key`.
    public func rotate(to key: (UInt64, UInt64)) async throws {
        try await handOver(runtime.publishCookieKey(key))
    }

    /// Waits (on the clock, at most `handoverLimit`) until every worker holds `generation`, then
    /// switches the programs to it.
    func handOver(_ generation: UInt64) async throws {
        let limit = clock.now.advanced(by: Self.handoverLimit)
        while !runtime.workersHoldCookieKey(generation) && clock.now < limit {
            try await clock.sleep(until: clock.now.advanced(by: Self.handoverPoll), tolerance: nil)
        }
        if !runtime.workersHoldCookieKey(generation) {
            logger.warning(
                "event=cookie_key_handover_late generation=\(generation) a worker did not take the key in time")
        }
        do { try runtime.installCookieKeyInPrograms() } catch {
            logger.error("event=cookie_key_install_failed error=\"\(error)\"")
        }
    }
}
