// `client_address`, `toa_option_kind` and the `proxy_protocol:` block: every mode and option is
// carried into the data plane's VirtualServiceConfiguration, and every misuse is refused at its key
// path with a message that says what to do instead.

import SluiceControl
import SluiceCore
import Testing

@Suite struct ClientAddressConfigurationTests {
    /// The options the data plane gets for virtual_servers[0] of `template(vsExtra:)`.
    private func carried(_ vsExtra: String) throws -> (ClientAddressMode, ClientAddressOptions) {
        let service = try parsed(template(vsExtra: vsExtra)).dataplaneConfiguration().services[0]
        return (service.clientAddress, service.clientAddressOptions)
    }

    @Test(arguments: [
        ("none", ClientAddressMode.none), ("toa", .toa), ("proxy_protocol_v1", .proxyProtocolV1),
        ("proxy_protocol_v2", .proxyProtocolV2),
    ])
    func everyModeIsAcceptedWithDefaultOptions(word: String, mode: ClientAddressMode) throws {
        for synProxy in [false, true] {
            let (got, options) = try carried("client_address: \(word)\nsyn_proxy: \(synProxy)")
            #expect(got == mode)
            #expect(options == ClientAddressOptions())
            #expect(options.toaKind == 254)
        }
    }

    @Test func theModeIsKeptInTheFileModelToo() throws {
        let config = try parsed(template(vsExtra: "client_address: toa\ntoa_option_kind: 253"))
        #expect(config.virtualServers[0].clientAddress == .toa)
        #expect(config.virtualServers[0].clientAddressOptions == ClientAddressOptions(toaKind: 253))
        #expect(config.virtualServers[1].clientAddress == ClientAddressMode.none)
        #expect(config.dataplaneConfiguration().services[1].clientAddressOptions == ClientAddressOptions())
    }

    @Test(arguments: [9, 18, 20, 27, 31, 33, 35, 200, 252, 253, 254, 255])
    func unusedTOAKindsAreAccepted(kind: Int) throws {
        let (mode, options) = try carried("client_address: toa\ntoa_option_kind: \(kind)")
        #expect(mode == .toa)
        #expect(options.toaKind == UInt8(kind))
    }

    @Test(arguments: [
        (0, "end of option list"), (1, "no-operation"), (2, "maximum segment size"), (3, "window scale"),
        (4, "SACK permitted"), (5, "SACK"), (6, "echo"), (7, "echo reply"), (8, "timestamps"),
        (19, "MD5 signature"), (28, "user timeout"), (29, "TCP-AO"), (30, "multipath TCP"), (34, "TCP Fast Open"),
    ])
    func kindsTCPAlreadyUsesAreRefused(kind: Int, name: String) {
        let found = problems(template(vsExtra: "client_address: toa\ntoa_option_kind: \(kind)"))
        #expect(found.map(\.keyPath) == ["virtual_servers[0].toa_option_kind"])
        #expect(
            found.first?.message
                == "\(kind) is the TCP \(name) option kind, which Sluice and the real server's kernel parse as "
                + "such; use an experimental or unassigned kind (254, the default; 253)")
    }

    @Test(arguments: [
        ("toa_option_kind: 256", "256 is out of range (0...255)"),
        ("toa_option_kind: -1", "-1 is out of range (0...255)"),
        ("toa_option_kind: \"254\"", "expected an integer, found the string \"254\""),
        ("toa_option_kind: 25.4", "expected an integer, found the number 25.4"),
    ])
    func badTOAKindValues(entry: String, message: String) {
        let found = problems(template(vsExtra: "client_address: toa\n" + entry))
        #expect(found.map(\.keyPath) == ["virtual_servers[0].toa_option_kind"])
        #expect(found.first?.message == message)
    }

    @Test(arguments: ["none", "proxy_protocol_v1", "proxy_protocol_v2"])
    func toaKindNeedsTOA(mode: String) {
        let found = problems(template(vsExtra: "client_address: \(mode)\ntoa_option_kind: 253"))
        #expect(found.map(\.keyPath) == ["virtual_servers[0].toa_option_kind"])
        #expect(
            found.first?.message == "toa_option_kind applies only to client_address: toa (this service has \(mode))")
    }

    @Test func toaKindWithoutAnExplicitModeNamesTheDefault() {
        let found = problems(template(vsExtra: "toa_option_kind: 254"))
        #expect(found.first?.message == "toa_option_kind applies only to client_address: toa (this service has none)")
    }

    @Test func everyProxyProtocolOptionIsCarried() throws {
        let (mode, options) = try carried(
            "client_address: proxy_protocol_v2\nproxy_protocol: { unique_id: true, crc32c: true, send_on_connect: true }"
        )
        #expect(mode == .proxyProtocolV2)
        #expect(options == ClientAddressOptions(uniqueID: true, crc32c: true, sendOnConnect: true))
        let (_, passthrough) = try carried(
            "client_address: proxy_protocol_v2\nproxy_protocol:\n  passthrough: yes\n  unique_id: false")
        #expect(passthrough == ClientAddressOptions(passthrough: true))
    }

    @Test func proxyProtocolV1TakesTheOptionsThatApplyToIt() throws {
        let (mode, options) = try carried(
            "client_address: proxy_protocol_v1\n"
                + "proxy_protocol: { send_on_connect: true, unique_id: false, crc32c: false }")
        #expect(mode == .proxyProtocolV1)
        #expect(options == ClientAddressOptions(sendOnConnect: true))
        let (_, passthrough) = try carried("client_address: proxy_protocol_v1\nproxy_protocol: { passthrough: true }")
        #expect(passthrough == ClientAddressOptions(passthrough: true))
        let (_, empty) = try carried("client_address: proxy_protocol_v1\nproxy_protocol: {}")
        #expect(empty == ClientAddressOptions())
    }

    @Test(arguments: ["unique_id", "crc32c"])
    func v2TLVsAreRefusedForV1(key: String) {
        let found = problems(template(vsExtra: "client_address: proxy_protocol_v1\nproxy_protocol: { \(key): true }"))
        #expect(found.map(\.keyPath) == ["virtual_servers[0].proxy_protocol.\(key)"])
        #expect(
            found.first?.message
                == "\(key) is a PROXY protocol v2 TLV and v1 headers carry none; "
                + "use client_address: proxy_protocol_v2 or remove it")
    }

    @Test(arguments: ["proxy_protocol_v1", "proxy_protocol_v2"])
    func sendOnConnectExcludesPassthrough(mode: String) {
        let found = problems(
            template(vsExtra: "client_address: \(mode)\nproxy_protocol: { send_on_connect: true, passthrough: true }"))
        #expect(found.map(\.keyPath) == ["virtual_servers[0].proxy_protocol.passthrough"])
        #expect(
            found.first?.message
                == "passthrough cannot be combined with send_on_connect: with send_on_connect Sluice sends its "
                + "header as soon as the real server's handshake completes, before the client could send one")
    }

    @Test(arguments: ["none", "toa"])
    func proxyProtocolBlockNeedsAProxyProtocolMode(mode: String) {
        let found = problems(template(vsExtra: "client_address: \(mode)\nproxy_protocol: { send_on_connect: true }"))
        #expect(found.map(\.keyPath) == ["virtual_servers[0].proxy_protocol"])
        #expect(
            found.first?.message
                == "proxy_protocol applies only to client_address: proxy_protocol_v1 or proxy_protocol_v2 "
                + "(this service has \(mode))")
    }

    @Test(arguments: [
        ("proxy_protocol: { send_on_connect: sometimes }", "virtual_servers[0].proxy_protocol.send_on_connect"),
        ("proxy_protocol: { unique_id: 1 }", "virtual_servers[0].proxy_protocol.unique_id"),
        ("proxy_protocol: { crc32c: \"true\" }", "virtual_servers[0].proxy_protocol.crc32c"),
        ("proxy_protocol: { passthrough: ~ }", "virtual_servers[0].proxy_protocol.passthrough"),
        ("proxy_protocol: { send_on_conect: true }", "virtual_servers[0].proxy_protocol.send_on_conect"),
        ("proxy_protocol: true", "virtual_servers[0].proxy_protocol"),
        ("proxy_protocol: [send_on_connect]", "virtual_servers[0].proxy_protocol"),
    ])
    func badProxyProtocolBlocks(entry: String, path: String) {
        #expect(keyPaths(template(vsExtra: "client_address: proxy_protocol_v2\n" + entry)) == [path])
    }

    @Test func misspelledProxyProtocolKeyGetsASuggestion() {
        let found = problems(
            template(vsExtra: "client_address: proxy_protocol_v2\nproxy_protocol: { send_on_conect: true }"))
        #expect(found.first?.message == "unknown key \"send_on_conect\" (did you mean \"send_on_connect\"?)")
        let key = problems(template(vsExtra: "client_address: toa\ntoa_option_knd: 254"))
        #expect(key.map(\.keyPath) == ["virtual_servers[0].toa_option_knd"])
        #expect(key.first?.message == "unknown key \"toa_option_knd\" (did you mean \"toa_option_kind\"?)")
    }

    /// Problems come in document order (ConfigurationValidationTests.problemsComeInDocumentOrder).
    @Test func everyClientAddressProblemIsReportedAtOnce() {
        let found = problems(
            template(
                vsExtra: "client_address: proxy_protocol_v1\ntoa_option_kind: 8\n"
                    + "proxy_protocol: { crc32c: true, unique_id: true, send_on_connect: true, passthrough: true }"))
        #expect(
            found.map(\.keyPath) == [
                "virtual_servers[0].toa_option_kind", "virtual_servers[0].toa_option_kind",
                "virtual_servers[0].proxy_protocol.crc32c", "virtual_servers[0].proxy_protocol.unique_id",
                "virtual_servers[0].proxy_protocol.passthrough",
            ])
    }

    @Test func aBadModeStillHasItsOptionsChecked() {
        let found = problems(
            template(vsExtra: "client_address: proxy_protocol_v3\nproxy_protocol: { crc32c: 3 }\ntoa_option_kind: 2"))
        #expect(
            found.map(\.keyPath) == [
                "virtual_servers[0].client_address", "virtual_servers[0].proxy_protocol.crc32c",
                "virtual_servers[0].toa_option_kind",
            ])
        #expect(found.first?.message.hasPrefix("\"proxy_protocol_v3\" is not one of none, toa") == true)
    }

    @Test(arguments: ["toa", "proxy_protocol_v1", "proxy_protocol_v2"])
    func udpServicesRefuseEveryMode(mode: String) {
        let yaml = template(vsExtra: "client_address: \(mode)").replacingFirst("protocol: tcp", "protocol: udp")
        let found = problems(yaml)
        #expect(found.map(\.keyPath) == ["virtual_servers[0].client_address"])
        #expect(found.first?.message == "\(mode) applies only to tcp services; use none")
    }

    @Test func startupSummaryNamesTheOptions() throws {
        func line(_ vsExtra: String) throws -> String {
            let lines = StartupSummary.describe(try parsed(template(vsExtra: vsExtra)))
            return lines.first { $0.hasPrefix("virtual server web:") } ?? ""
        }
        #expect(try line("").hasSuffix(", syn_proxy auto, client_address none"))
        #expect(try line("client_address: toa").hasSuffix(", client_address toa (option kind 254)"))
        #expect(
            try line("client_address: toa\ntoa_option_kind: 253\nsyn_proxy: true")
                .hasSuffix(", syn_proxy on, client_address toa (option kind 253)"))
        #expect(try line("client_address: proxy_protocol_v1").hasSuffix(", client_address proxy_protocol_v1"))
        #expect(
            try line(
                "client_address: proxy_protocol_v2\n"
                    + "proxy_protocol: { send_on_connect: true, crc32c: true, unique_id: true }"
            ).hasSuffix(", client_address proxy_protocol_v2 (unique_id, crc32c, send_on_connect)"))
        #expect(
            try line("client_address: proxy_protocol_v1\nproxy_protocol: { passthrough: true }")
                .hasSuffix(", client_address proxy_protocol_v1 (passthrough)"))
    }
}
