// Root-only test plumbing: `ip` topologies in network namespaces prefixed `sx-`, shell commands, and a
// dedicated thread that enters a namespace before touching AF_XDP (setns is per thread; the Swift Testing
// pool threads must never change namespace).
//
// Topology of a Lab tagged T (namespaces sx-T-cl, sx-T-gw, sx-T-rs; addresses from 10.77/16, never
// routed outside the namespaces):
//   cl sxc0 10.77.0.2/24  <->  sxg0 10.77.0.1/24 [gw] sxg1 10.77.1.1/24  <->  sxr0 10.77.1.2/24 rs
//   cl routes the VIP prefix 10.77.9.0/24 via 10.77.0.1. tx checksum offload is off on the senders.

import Dispatch
import Foundation
import Synchronization

@testable import SluiceXDP

/// One lab: three namespaces named after a tag, so suites that run in parallel do not collide.
struct Lab: Sendable {
    let gateway: String
    let client: String
    let server: String

    init(_ tag: String) {
        gateway = "sx-\(tag)-gw"
        client = "sx-\(tag)-cl"
        server = "sx-\(tag)-rs"
    }

    static let isRoot = getuid() == 0
    static let hasXDPLoader = FileManager.default.isExecutableFile(atPath: "/usr/sbin/xdp-loader")

    struct CommandFailed: Error, CustomStringConvertible {
        var command: [String]
        var status: Int32
        var output: String
        var description: String { "\(command.joined(separator: " ")) exited \(status): \(output)" }
    }

    /// Runs a command; throws with its output on a non-zero exit unless `check` is false.
    @discardableResult
    static func run(_ arguments: String..., check: Bool = true) throws -> String {
        try Lab.run(arguments, check: check)
    }

    @discardableResult
    static func run(_ arguments: [String], check: Bool = true) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let output = String(decoding: data, as: UTF8.self)
        if check && process.terminationStatus != 0 {
            throw CommandFailed(command: arguments, status: process.terminationStatus, output: output)
        }
        return output
    }

    /// Deletes every namespace of the lab (ignores ones that do not exist).
    func destroy() {
        for namespace in [gateway, client, server] { _ = try? Lab.run("ip", "netns", "del", namespace, check: false) }
    }

    /// Builds the client side, and the server side when `withServer`. Leaves nothing behind on failure.
    func create(withServer: Bool = false) throws {
        destroy()
        do {
            try build(withServer: withServer)
        } catch {
            destroy()
            throw error
        }
    }

    private func build(withServer: Bool) throws {
        try Lab.run("ip", "netns", "add", gateway)
        try Lab.run("ip", "netns", "add", client)
        try Lab.run("ip", "-n", gateway, "link", "set", "lo", "up")
        try Lab.run("ip", "-n", client, "link", "set", "lo", "up")
        try Lab.run("ip", "-n", gateway, "link", "add", "sxg0", "type", "veth", "peer", "name", "sxc0", "netns", client)
        try Lab.run("ip", "-n", gateway, "addr", "add", "10.77.0.1/24", "dev", "sxg0")
        try Lab.run("ip", "-n", gateway, "link", "set", "sxg0", "up")
        try Lab.run("ip", "-n", client, "addr", "add", "10.77.0.2/24", "dev", "sxc0")
        try Lab.run("ip", "-n", client, "link", "set", "sxc0", "up")
        try Lab.run("ip", "-n", client, "route", "add", "10.77.9.0/24", "via", "10.77.0.1")
        try Lab.run("ip", "netns", "exec", client, "ethtool", "-K", "sxc0", "tx", "off")
        if withServer {
            try Lab.run("ip", "netns", "add", server)
            try Lab.run("ip", "-n", server, "link", "set", "lo", "up")
            try Lab.run(
                "ip", "-n", gateway, "link", "add", "sxg1", "type", "veth", "peer", "name", "sxr0", "netns", server)
            try Lab.run("ip", "-n", gateway, "addr", "add", "10.77.1.1/24", "dev", "sxg1")
            try Lab.run("ip", "-n", gateway, "link", "set", "sxg1", "up")
            try Lab.run("ip", "-n", server, "addr", "add", "10.77.1.2/24", "dev", "sxr0")
            try Lab.run("ip", "-n", server, "link", "set", "sxr0", "up")
            try Lab.run("ip", "netns", "exec", server, "ethtool", "-K", "sxr0", "tx", "off")
        }
        // Resolve the gateway's MAC before the tests send (ARP goes to the kernel).
        _ = try probeUDP(to: "10.77.0.1", port: 9)
    }

    /// Sends `count` UDP datagrams from the client namespace.
    func sendUDP(to address: String, port: Int, count: Int = 5) throws {
        let script =
            "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
            + "for i in range(\(count)): s.sendto(b'sluice-%d' % i, ('\(address)', \(port)))\n"
        try Lab.run("ip", "netns", "exec", client, "python3", "-c", script)
    }

    /// Sends one UDP datagram on a connected socket and reports how the kernel answered.
    func probeUDP(to address: String, port: Int) throws -> String {
        let script =
            "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.settimeout(1)\n"
            + "s.connect(('\(address)', \(port)))\ns.send(b'x')\n"
            + "try:\n    s.recv(100)\n    print('answered')\nexcept ConnectionRefusedError:\n    print('refused')\n"
            + "except socket.timeout:\n    print('silent')\n"
        return try Lab.run("ip", "netns", "exec", client, "python3", "-c", script)
    }

    /// The XDP program attached to an interface of the gateway: (id, name), or nil.
    func attachedProgram(_ interface: String) throws -> (id: Int, name: String)? {
        let output = try Lab.run("ip", "-n", gateway, "-j", "link", "show", "dev", interface)
        let links = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]]
        guard let xdp = links?.first?["xdp"] as? [String: Any], let program = xdp["prog"] as? [String: Any],
            let id = program["id"] as? Int
        else { return nil }
        return (id, program["name"] as? String ?? "")
    }

    /// Runs `body` on a new thread inside the gateway namespace and returns its result.
    func inGateway<T: Sendable>(_ body: @escaping @Sendable () throws -> T) throws -> T {
        let result = Mutex<Result<T, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        let gateway = self.gateway
        let thread = Thread {
            let outcome = Result { () throws -> T in
                try NetworkNamespace.enter(named: gateway)
                return try body()
            }
            result.withLock { $0 = outcome }
            done.signal()
        }
        thread.start()
        done.wait()
        return try result.withLock { $0! }.get()
    }
}
