// fuzz-config: the configuration loader on arbitrary text: the limits checked before the YAML library
// runs, composing, and every check of the reader. It must answer (a configuration or problems), never
// trap or hang; libFuzzer's -timeout catches a hang.

import Foundation
import FuzzSupport
import SluiceControl

/// Seeds: the shipped configuration and small documents around the edges the reader checks.
func seeds() -> [(name: String, bytes: [UInt8])] {
    var seeds: [(String, [UInt8])] = []
    let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "../../../Config/sluice.yaml"
    ).standardizedFileURL
    if let text = try? String(contentsOf: shipped, encoding: .utf8) { seeds.append(("shipped", Array(text.utf8))) }
    let small = """
        interfaces: { external: ext0, internal: int0 }
        local_address_groups: { lips: [10.20.0.240], lips6: ["fd00:20::240"] }
        dataplane: { workers: 1, connection_capacity: 4096, timeouts: { udp_oneway: 30 } }
        synproxy: { mss: 1400, auto_half_open: 64 }
        virtual_servers:
          - name: web
            vip: 203.0.113.10
            port: 80
            protocol: tcp
            scheduler: mh
            mh_port: true
            syn_proxy: auto
            persistence_timeout: 5m
            persistence_netmask: 24
            local_address_group: lips
            health_check: { type: http, interval: 2s, http: { path: /health, expect_status: [200] } }
            real_servers:
              - { address: 10.30.0.11, port: 8080, weight: 100, uthreshold: 10, lthreshold: 5 }
          - { name: dns6, vip: "fd00:203::10", port: 53, protocol: udp, local_address_group: lips6,
              real_servers: [{ address: "fd00:30::11" }] }
        """
    seeds.append(("small", Array(small.utf8)))
    seeds.append(("alias", Array("a: &x {b: 1}\nc: *x\n".utf8)))
    seeds.append(("numbers", Array("virtual_servers: [{port: 0x50, vip: \"::ffff:1.2.3.4\"}]\n".utf8)))
    return seeds
}

exit(
    FuzzDriver.run(argc: CommandLine.argc, argv: CommandLine.unsafeArgv, seeds: seeds) { data, count in
        _ = try? ConfigurationLoader.parse(yaml: String(decoding: FuzzDriver.bytes(data, count), as: UTF8.self))
        return 0
    })
