// Shared YAML fixtures and helpers for the configuration tests.

import SluiceControl
import Testing

enum Fixtures {
    /// The contract example from the project brief, verbatim.
    static let contract = """
        interfaces:
          external: ext0          # where VIP traffic arrives
          internal: int0          # towards the real servers; defaults to external
          xdp_mode: auto          # auto | skb | native
        local_address_groups:
          lips: [10.20.0.240, 10.20.0.241]
        virtual_servers:
          - name: web
            vip: 203.0.113.10     # IPv4 or IPv6
            port: 80
            protocol: tcp         # tcp | udp
            scheduler: wrr        # rr | wrr | wlc
            local_address_group: lips
            syn_proxy: false
            client_address: none  # none | toa | proxy_protocol_v1 | proxy_protocol_v2
            real_servers:
              - { address: 10.30.0.11, port: 8080, weight: 100 }
        """

    /// The smallest valid file: everything optional left out.
    static let minimal = """
        interfaces: { external: eth0 }
        local_address_groups: { lips: [10.20.0.240] }
        virtual_servers:
          - name: web
            vip: 203.0.113.10
            port: 80
            protocol: tcp
            local_address_group: lips
            real_servers:
              - address: 10.30.0.11
        """

    /// Path of the shipped default configuration.
    static var shippedConfigPath: String {
        let here = #filePath
        let testsDir = here.split(separator: "/", omittingEmptySubsequences: false).dropLast(3)
        return testsDir.joined(separator: "/") + "/Config/sluice.yaml"
    }
}

/// Parses `yaml`, expecting it to be rejected; returns the problems.
func problems(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) -> [ConfigurationProblem] {
    do {
        _ = try ConfigurationLoader.parse(yaml: yaml)
        Issue.record("expected the configuration to be rejected", sourceLocation: sourceLocation)
        return []
    } catch {
        return error.problems
    }
}

/// The key paths of the problems found in `yaml`.
func keyPaths(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) -> [String] {
    problems(yaml, sourceLocation: sourceLocation).map(\.keyPath)
}

/// Parses `yaml`, expecting it to be accepted.
func parsed(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> SluiceConfiguration {
    do {
        return try ConfigurationLoader.parse(yaml: yaml)
    } catch {
        Issue.record("unexpected problems:\n\(error)", sourceLocation: sourceLocation)
        throw error
    }
}

/// A valid two-service file with one spot to splice extra virtual-server keys into (`VS_EXTRA`),
/// extra real-server entries (`RS_EXTRA`) and extra top-level sections (`TOP_EXTRA`).
func template(vsExtra: String = "", rsExtra: String = "", topExtra: String = "") -> String {
    """
    interfaces:
      external: ext0
      internal: int0
    local_address_groups:
      lips: [10.20.0.240, 10.20.0.241]
      lips6: ["fd00:20::240"]
    virtual_servers:
      - name: web
        vip: 203.0.113.10
        port: 80
        protocol: tcp
        local_address_group: lips
    \(vsExtra.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
        real_servers:
          - { address: 10.30.0.11, port: 8080, weight: 100 }
          - { address: 10.30.0.12, port: 8080 }
    \(rsExtra.split(separator: "\n").map { "      " + $0 }.joined(separator: "\n"))
      - name: web6
        vip: "fd00:203::10"
        port: 80
        protocol: tcp
        local_address_group: lips6
        real_servers:
          - { address: "fd00:30::11", port: 8080 }
    \(topExtra)
    """
}
