// xdp-syn-probe -- what Sluice's XDP program costs per frame on the default SYN path (issue 3: ns per
// SYN → SYN-ACK; the worker's path is measured by SynProxyBenchmarks). By default the XDP program answers
// SYNs itself, so this is the cost a SYN flood puts on the receiving core beyond the driver.
//
// BPF_PROG_TEST_RUN runs the loaded program on a built frame and the kernel times the run of the program
// alone (no system call, no driver, no copy), so veth's per-frame overhead, which dominates `make perf`
// on this VM, is not in the figure. A program that answers rewrites the frame in place, so each SYN is
// timed in a run of its own (repeat 1) and the figure is the median over many calls; the baseline, in the
// same run and timed the same way, is the same program passing a frame that is not for it (parse and one
// map lookup): the ratio says what answering adds to the program's fixed cost.
//
// usage (root, inside a namespace with the interface): xdp-syn-probe IFNAME [CALLS]   (Perf/micro-xdp.sh)

import SluiceCore
import SluicePacket
import SluiceTestKit
import SluiceXDP

#if canImport(Glibc)
    import Glibc
#endif

let arguments = CommandLine.arguments
guard arguments.count >= 2, arguments.count <= 3 else {
    print("usage: xdp-syn-probe IFNAME [CALLS]   (root, in a network namespace with IFNAME)")
    exit(2)
}
let calls = arguments.count == 3 ? Int(arguments[2]) ?? 0 : 200_000
guard calls > 0 else {
    print("xdp-syn-probe: CALLS must be a positive integer")
    exit(2)
}

let gatewayMAC = MACAddress(0x0200_0000_0001)
let clientMAC = MACAddress(0x0200_0000_0002)
let client4 = IPAddress("10.78.0.2")!
let client6 = IPAddress("fd00:78::2")!
let vip4 = IPAddress("10.78.9.9")!
let vip6 = IPAddress("fd00:78:9::9")!

/// One syn_proxy service per family on port 80, with one real server.
let configuration = DataplaneConfiguration(
    services: [(vip4, "10.78.1.1", "10.78.1.2"), (vip6, "fd00:78:1::1", "fd00:78:1::2")].map { vip, lip, server in
        VirtualServiceConfiguration(
            name: vip.isV6 ? "web6" : "web4", vip: vip, port: 80, transport: .tcp, scheduler: .rr,
            localAddresses: [IPAddress(lip)!], synProxy: true,
            realServers: [RealServerConfiguration(address: IPAddress(server)!, port: 8080, weight: 1)])
    },
    localPortRange: 30000...40000, connectionCapacity: 1024, synProxy: SynProxyConfiguration())

func frame(v6: Bool, options: [TCPOptionSpec], padding: Int = 0) -> [UInt8] {
    let ethernet = PacketBuilder().ethernet(src: clientMAC, dst: gatewayMAC)
    let ip = v6 ? ethernet.ipv6(src: client6, dst: vip6) : ethernet.ipv4(src: client4, dst: vip4)
    return ip.tcp(sport: 40000, dport: 80, seq: 0x1234_5678, flags: TCPFlag.syn, window: 64240, options: options)
        .padding(padding).build()
}

/// What Linux offers in a SYN: MSS, SACK permitted, timestamps, window scale.
let linux: [TCPOptionSpec] = [.mss(1460), .sackPermitted, .timestamps(val: 0x0102_0304, ecr: 0), .nop, .windowScale(7)]
let cases: [(name: String, what: String, frame: [UInt8], action: UInt32)] = [
    (
        "xdp-pass", "a UDP datagram to an address that is no VIP (passed to the kernel: the fixed cost)",
        PacketBuilder().ethernet(src: clientMAC, dst: gatewayMAC).ipv4(src: client4, dst: IPAddress("10.78.0.1")!)
            .udp(sport: 5353, dport: 5353, payload: Array(repeating: 0, count: 18)).build(), 2
    ),
    (
        "xdp-syn-bare", "IPv4 SYN without options, 60 bytes (a flood's SYN) → cookie SYN-ACK",
        frame(v6: false, options: [], padding: 6), 3
    ),
    (
        "xdp-syn-linux", "IPv4 SYN with Linux's options (MSS, SACK, timestamps, window scale) → cookie SYN-ACK",
        frame(v6: false, options: linux), 3
    ),
    ("xdp-syn-linux-v6", "IPv6 SYN with Linux's options → cookie SYN-ACK", frame(v6: true, options: linux), 3),
]

do {
    let interface = try NetworkInterface.named(arguments[1])
    let program = try XDPProgram(interfaceIndex: interface.index, interfaceName: arguments[1], mode: .skb)
    defer { try? program.detach() }
    try program.setCookieKeys(SynCookieKeyring(key: SynCookieKeyring.randomKey()))
    try program.apply(configuration: configuration)
    // Rounds interleave the cases, so that a change of the VM's state during the run (this VM's rates are
    // bimodal) reaches every case alike and the ratios to the fixed cost stay comparable.
    let rounds = 20
    let perRound = Swift.max(1, calls / rounds)
    var samples = [[UInt32]](repeating: [], count: cases.count)
    print(
        "xdp-syn-probe: \(perRound * rounds) timed runs per case in \(rounds) interleaved rounds, one program run each")
    for _ in 0..<rounds {
        for (index, entry) in cases.enumerated() {
            for _ in 0..<perRound {
                let run = try program.timedTestRun(frame: entry.frame)
                guard run.action == entry.action else {
                    print("xdp-syn-probe: \(entry.name): action \(run.action), expected \(entry.action)")
                    exit(1)
                }
                samples[index].append(run.nanoseconds)
            }
        }
    }
    var baseline = 0.0
    for (index, entry) in cases.enumerated() {
        let sorted = samples[index].sorted()
        let median = Double(sorted[sorted.count / 2])
        let mean = Double(sorted.reduce(0) { $0 + Int($1) }) / Double(sorted.count)
        if index == 0 { baseline = median }
        let ratio = index > 0 && baseline > 0 ? " ratio_to_pass=\(Int((median / baseline * 100).rounded()))%" : ""
        print(
            "RESULT name=\(entry.name) median_ns=\(Int(median)) mean_ns=\(Int(mean.rounded())) "
                + "p90_ns=\(sorted[sorted.count * 9 / 10]) runs=\(sorted.count)\(ratio)  # \(entry.what)")
    }
} catch {
    print("xdp-syn-probe: \(error)")
    exit(1)
}
