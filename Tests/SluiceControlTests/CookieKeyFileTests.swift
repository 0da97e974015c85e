// synproxy.key_file: the same file gives every gateway the same keys, epoch by epoch; another file,
// other keys; a short file is refused; the cookie-key service switches keys at the wall-clock epoch and
// when the file changes.

import Foundation
import Logging
import SluiceControl
import SluiceTestKit
import Synchronization
import Testing

@Suite struct CookieKeyFileTests {
    @Test func sameFileSameKeys() throws {
        let bytes = Array("0123456789abcdef0123456789abcdef".utf8)
        let a = try #require(CookieKeyFile(bytes: bytes))
        let b = try #require(CookieKeyFile(bytes: bytes))
        let other = try #require(CookieKeyFile(bytes: Array("fedcba9876543210fedcba9876543210".utf8)))
        #expect(a.key(epoch: 7) == b.key(epoch: 7))
        #expect(a.key(epoch: 7) != a.key(epoch: 8))
        #expect(a.key(epoch: 7) != other.key(epoch: 7))
        let ring = a.keyring(epoch: 8)
        #expect(ring.current == a.key(epoch: 8) && ring.previous! == a.key(epoch: 7))
        #expect(CookieKeyFile(bytes: Array(repeating: 1, count: 15)) == nil)
        #expect(CookieKeyFile.epoch(at: 240) == 2 && CookieKeyFile.epoch(at: 359.9) == 2)
    }

    @Test func serviceFollowsEpochsAndTheFile() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-key-\(UUID())").path
        try Data("0123456789abcdef0123456789abcdef".utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let wall = Mutex<Double>(1000)
        let clock = TestClock()
        let runtime = FakeKeyRuntime(lag: 0)
        let service = CookieKeyService(
            runtime: runtime, clock: clock, logger: Logger(label: "test"), keyFile: path,
            wallClock: { wall.withLock { $0 } })
        let task = Task { try await service.run() }
        defer { task.cancel() }
        #expect(await clock.waitForSleepers(1))
        clock.advance(by: .seconds(1))  // same epoch (1000 s → 8): nothing
        #expect(await clock.waitForSleepers(1))
        #expect(runtime.state.withLock { $0.keys.isEmpty })
        wall.withLock { $0 = 1090 }  // epoch 9
        clock.advance(by: .seconds(1))
        #expect(await clock.waitForSleepers(1))
        let file = try CookieKeyFile.load(path: path)
        #expect(runtime.state.withLock { $0.keys.map(\.0) } == [file.key(epoch: 9).0])
        // A new file: its key at once.
        try Data("another secret of enough bytes!!".utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: 5)], ofItemAtPath: path)
        clock.advance(by: .seconds(1))
        #expect(await clock.waitForSleepers(1))
        let fresh = try CookieKeyFile.load(path: path)
        #expect(runtime.state.withLock { $0.keys.last?.0 } == fresh.key(epoch: 9).0)
        #expect(runtime.state.withLock { $0.installed.count } == 2)
    }
}
