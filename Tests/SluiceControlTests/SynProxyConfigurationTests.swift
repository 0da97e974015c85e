// The `synproxy:` block and `syn_proxy: true` services: defaults, every key read into the data
// plane's SynProxyConfiguration, and each bad value reported at its key path.

import SluiceControl
import SluiceCore
import Testing

@Suite struct SynProxyConfigurationTests {
    @Test func synProxyServicesAreAcceptedWithDefaults() throws {
        let config = try parsed(template(vsExtra: "syn_proxy: true"))
        #expect(config.virtualServers[0].synProxy)
        #expect(config.synProxy == SynProxyConfiguration())
        let dataplane = config.dataplaneConfiguration()
        #expect(dataplane.services[0].synProxy)
        #expect(!dataplane.services[1].synProxy)
        #expect(dataplane.synProxy.mss == 1452 && dataplane.synProxy.mssIPv6 == 1432)
        #expect(dataplane.synProxy.windowScale == 7 && dataplane.synProxy.retries == 3)
        #expect(dataplane.synProxy.queueLength == 4 && dataplane.synProxy.ackStormThreshold == 10)
        #expect(dataplane.synProxy.sack && dataplane.synProxy.timestamps && !dataplane.synProxy.resetOnBadCookie)
    }

    @Test func everyKeyIsRead() throws {
        let block = """
            synproxy:
              mss: 1400
              wscale: 0
              sack: false
              timestamps: no
              retries: 5
              queue: 8
              rst_on_bad_cookie: true
              ack_storm_threshold: 0
            """
        let settings = try parsed(template(vsExtra: "syn_proxy: true", topExtra: block)).dataplaneConfiguration()
            .synProxy
        #expect(settings.mss == 1400 && settings.mssIPv6 == 1380)
        #expect(settings.windowScale == 0 && !settings.sack && !settings.timestamps)
        #expect(settings.retries == 5 && settings.queueLength == 8)
        #expect(settings.resetOnBadCookie && settings.ackStormThreshold == 0)
        // A small IPv4 MSS never takes IPv6 below its minimum.
        let small = try parsed(template(topExtra: "synproxy: { mss: 536 }")).synProxy
        #expect(small.mssIPv6 == 1220)
    }

    @Test(arguments: [
        ("mss: 100", "synproxy.mss"),
        ("mss: 9001", "synproxy.mss"),
        ("wscale: 15", "synproxy.wscale"),
        ("sack: maybe", "synproxy.sack"),
        ("timestamps: 3", "synproxy.timestamps"),
        ("retries: 8", "synproxy.retries"),
        ("retries: -1", "synproxy.retries"),
        ("queue: 0", "synproxy.queue"),
        ("queue: 17", "synproxy.queue"),
        ("rst_on_bad_cookie: sometimes", "synproxy.rst_on_bad_cookie"),
        ("ack_storm_threshold: 16", "synproxy.ack_storm_threshold"),
        ("cookies: 3", "synproxy.cookies"),
    ])
    func badValuesAreReportedAtTheirKey(entry: String, path: String) {
        #expect(keyPaths(template(topExtra: "synproxy:\n  " + entry)) == [path])
    }

    @Test func everyBadValueInTheBlockIsReportedAtOnce() {
        let found = problems(template(topExtra: "synproxy: { mss: 1, wscale: 99, queue: 0 }"))
        #expect(found.map(\.keyPath) == ["synproxy.mss", "synproxy.wscale", "synproxy.queue"])
    }
}
