// The `sync` section: read with its defaults, carried to the data plane (an outbox per worker), a
// restart needed to change it, and each bad value refused with a line naming it.

import SluiceControl
import SluiceCore
import SluicePacket
import Testing

@Suite struct SyncConfigurationTests {
    static let section = """
        sync:
          listen: "10.99.0.1:8848"
          peers: ["10.99.0.2:8848", "[fd00:99::2]:8848"]
          key_file: /etc/sluice/sync.key
        """

    @Test func theSectionAndItsDefaults() throws {
        let config = try parsed(template(topExtra: Self.section))
        let sync = try #require(config.sync)
        #expect(sync.listen == SyncOptions.Endpoint(address: IPAddress("10.99.0.1")!, port: 8848))
        #expect(sync.peers.map(\.description) == ["10.99.0.2:8848", "[fd00:99::2]:8848"])
        #expect(sync.keyFile == "/etc/sluice/sync.key")
        #expect(sync.refreshMilliseconds == 10_000)
        #expect(sync.deadAfterMilliseconds == 3_000)
        #expect(config.dataplaneConfiguration().syncOutboxCapacity == SyncOptions.outboxCapacity)
        let off = try parsed(template())
        #expect(off.sync == nil)
        #expect(off.dataplaneConfiguration().syncOutboxCapacity == 0)
        let tuned = try parsed(template(topExtra: Self.section + "\n  refresh: 30s\n  dead_after: 1500ms"))
        #expect(tuned.sync?.refreshMilliseconds == 30_000)
        #expect(tuned.sync?.deadAfterMilliseconds == 1_500)
        #expect(ReloadDiff(from: off, to: tuned).restartRequired == ["sync"])
    }

    @Test(arguments: [
        ("sync:\n  listen: \"10.99.0.1\"\n  peers: [\"10.99.0.2:8848\"]\n  key_file: /k", "sync.listen"),
        ("sync:\n  listen: \"10.99.0.1:8848\"\n  peers: []\n  key_file: /k", "sync.peers"),
        ("sync:\n  listen: \"10.99.0.1:8848\"\n  peers: [\"10.99.0.1:8848\"]\n  key_file: /k", "sync.peers"),
        ("sync:\n  listen: \"10.99.0.1:8848\"\n  peers: [\"host:1\"]\n  key_file: /k", "sync.peers[0]"),
        ("sync:\n  listen: \"10.99.0.1:8848\"\n  peers: [\"10.99.0.2:8848\"]\n  key_file: k", "sync.key_file"),
        ("sync:\n  listen: \"10.99.0.1:8848\"\n  peers: [\"10.99.0.2:8848\"]", "sync.key_file"),
        (
            "sync:\n  listen: \"10.99.0.1:8848\"\n  peers: [\"10.99.0.2:8848\"]\n  key_file: /k\n  refresh: 10ms",
            "sync.refresh"
        ),
        ("sync:\n  listen: \"10.99.0.1:8848\"\n  peers: [\"10.99.0.2:8848\"]\n  key_file: /k\n  port: 1", "sync.port"),
    ])
    func badValuesAreRefused(yaml: String, keyPath: String) {
        #expect(keyPaths(template(topExtra: yaml)) == [keyPath])
    }
}
