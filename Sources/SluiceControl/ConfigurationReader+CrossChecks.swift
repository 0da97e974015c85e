// Checks that span entries: unique names and (vip, port, protocol) triples, references to local
// address groups, and the address-family rule of FULLNAT — the data plane rewrites addresses in place
// and never translates between IPv4 and IPv6, so a service's VIP, its LIPs and its real servers must
// all be of one family. Addresses may not play two roles (a VIP that is also a LIP would make the
// steering program unable to tell a client's packet from a real server's reply).
//
// They run on whatever the section readers could parse, so a bad port in one entry does not hide a
// duplicate name in another.

import SluicePacket
import Yams

extension ConfigurationReader {
    func crossCheck(
        groups: [GroupDraft], servers: [VirtualServerDraft], dataplane: SluiceConfiguration.DataplaneOptions?
    ) {
        var groupsByName: [String: GroupDraft] = [:]
        var lipOwners: [IPAddress: String] = [:]
        for group in groups {
            groupsByName[group.name] = group
            for (address, path) in group.addresses where lipOwners[address] == nil {
                lipOwners[address] = path
            }
        }

        var seenNames: [String: String] = [:]
        var seenEndpoints: [String: String] = [:]
        var usedGroups: Set<String> = []
        for server in servers {
            let path = server.path
            func at(_ key: String) -> String { Self.child(path, key) }
            func node(_ key: String) -> Node { server.nodes[key] ?? server.node }

            if let name = server.name {
                if let first = seenNames[name] {
                    error(at("name"), "duplicate name \"\(name)\" (also \(first))", at: node("name"))
                } else {
                    seenNames[name] = path
                }
            }
            if let vip = server.vip, let port = server.port, let transport = server.transport {
                let key =
                    "\(ConfigurationVocabulary.name(of: transport)) \(ConfigurationVocabulary.endpoint(vip, port))"
                if let first = seenEndpoints[key] {
                    error(path, "duplicate virtual server \(key) (also \(first))", at: server.node)
                } else {
                    seenEndpoints[key] = path
                }
            }
            if let vip = server.vip, let lip = lipOwners[vip] {
                error(at("vip"), "\(vip) is also a local address (\(lip)); a VIP cannot be a LIP", at: node("vip"))
            }

            if let groupName = server.localAddressGroup {
                usedGroups.insert(groupName)
                if let group = groupsByName[groupName] {
                    if let vip = server.vip {
                        checkFamily(of: group, vip: vip, at: at("local_address_group"), node("local_address_group"))
                    }
                } else {
                    var message = "undefined local address group \"\(groupName)\""
                    if let suggestion = Self.closest(to: groupName, among: groups.map(\.name)) {
                        message += " (did you mean \"\(suggestion)\"?)"
                    } else if groups.isEmpty {
                        message += "; define it under local_address_groups"
                    } else {
                        message += " (defined: \(groups.map(\.name).joined(separator: ", ")))"
                    }
                    error(at("local_address_group"), message, at: node("local_address_group"))
                }
            }

            checkRealServers(of: server, lipOwners: lipOwners)
            checkHealthSettings(of: server, lipOwners: lipOwners)
        }

        for group in groups where !usedGroups.contains(group.name) {
            warning(
                group.path, "local address group \"\(group.name)\" is not used by any virtual server", at: group.node)
        }
        if servers.isEmpty {
            warning(
                "virtual_servers", "no virtual servers are defined; the gateway will pass all traffic to the kernel")
        }
        if let dataplane, dataplane.localPortRange.count < dataplane.workers {
            error(
                "dataplane.local_port_range",
                "\(dataplane.localPortRange.count) ports cannot be split between \(dataplane.workers) workers"
            )
        }
    }

    /// Every LIP of the group must be of the VIP's family (FULLNAT does not translate between families).
    private func checkFamily(of group: GroupDraft, vip: IPAddress, at path: String, _ node: Node) {
        guard let mismatch = group.addresses.first(where: { $0.address.isV6 != vip.isV6 }) else { return }
        let family = ConfigurationVocabulary.family(of: vip)
        error(
            path,
            "local address group \"\(group.name)\" contains \(ConfigurationVocabulary.family(of: mismatch.address)) "
                + "address \(mismatch.address) but the VIP \(vip) is \(family); FULLNAT needs local addresses of "
                + "the VIP's family, so an \(family) VIP needs a group of \(family) addresses",
            at: node
        )
    }

    private func checkRealServers(of server: VirtualServerDraft, lipOwners: [IPAddress: String]) {
        var seen: [String: String] = [:]
        for rs in server.realServers {
            guard let address = rs.address else { continue }
            let addressPath = Self.child(rs.path, "address")
            if let vip = server.vip {
                if address.isV6 != vip.isV6 {
                    let family = ConfigurationVocabulary.family(of: vip)
                    error(
                        addressPath,
                        "\(address) is \(ConfigurationVocabulary.family(of: address)) but the VIP \(vip) is "
                            + "\(family); FULLNAT forwards within one address family, so every real server of an "
                            + "\(family) VIP must be \(family) too",
                        at: rs.node
                    )
                } else if address == vip {
                    error(addressPath, "\(address) is the VIP itself", at: rs.node)
                }
            }
            if let lip = lipOwners[address] {
                error(addressPath, "\(address) is a local address (\(lip)), not a real server", at: rs.node)
            }
            if let port = rs.port {
                let key = ConfigurationVocabulary.endpoint(address, port)
                if let first = seen[key] {
                    error(rs.path, "duplicate real server \(key) (also \(first))", at: rs.node)
                } else {
                    seen[key] = rs.path
                }
            }
        }
        if server.realServers.isEmpty && server.realServersComplete {
            warning(
                Self.child(server.path, "real_servers"),
                "no real servers; the service accepts no connections until some are added",
                at: server.node
            )
        } else if !server.realServers.isEmpty, server.realServers.allSatisfy({ $0.weight == 0 }) {
            warning(
                Self.child(server.path, "real_servers"),
                "every real server has weight 0; the service accepts no new connections (drained)",
                at: server.node
            )
        }
    }
}
