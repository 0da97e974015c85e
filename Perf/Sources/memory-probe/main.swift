// memory-probe: bytes of memory per connection with a million connections in the table (issue 5:
// target ≤ 160 B), measured from the process's resident set, next to the static formula.
//
//   memory-probe [dataplane|table] [CONNECTIONS] [CAPACITY]      defaults: dataplane 1000000 CONNECTIONS
//
// dataplane (the default, what production does): one `Dataplane` (worker 0 of 1) with
//   `connectionCapacity` = CAPACITY and one TCP service with 17 LIPs (17 × 64 511 local ports) and 4
//   real servers; it is filled by CONNECTIONS client SYNs (20 client addresses × 50 000 ports) through
//   `Dataplane.process`, each forwarded to a real server and leaving a SYN_RECV connection in the
//   table and the timer wheel, as a worker's would. The clock stands still, so nothing expires.
// table: a bare `ConnectionTable` of CAPACITY filled with CONNECTIONS entries by `insert`, for
//   comparison (no timer wheel, no SYNPROXY hold queue, no port pools).
//
// RSS is read from /proc/self/status (VmRSS) before the data plane is created, after it is created
// (every array is preallocated and written at init, so this already holds nearly everything), and
// after the fill. Bytes per connection = (RSS after fill − RSS before) / CONNECTIONS. The static
// formula multiplies out the per-connection arrays from MemoryLayout strides; strides of types the
// data plane keeps internal are taken from their documentation and marked so.

import Foundation
import PathFixtures
import SluiceCore
import SluicePacket
import SluiceTestKit

/// Resident set size in bytes (VmRSS of /proc/self/status).
func residentBytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return -1 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        if fields.count >= 2, let kB = Int(fields[1]) { return kB * 1024 }
    }
    return -1
}

/// Index slots `ConnectionTable` allocates for `capacity` (the inbound key of each connection at a
/// load ≤ 0.6: capacity · 5/3, not rounded to a power of two), as ConnectionTable.init computes it.
func slotCount(capacity: Int) -> Int {
    max(8, (capacity * 5 + 2) / 3)
}

func mib(_ bytes: Int) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }

let lipCount = 17
let realServerCount = 4
let clientAddresses = 20
let portsPerClient = 50_000

func configuration(capacity: Int) -> DataplaneConfiguration {
    DataplaneConfiguration(
        services: [
            VirtualServiceConfiguration(
                name: "memory", vip: PathWorld.vip, port: 80, transport: .tcp, scheduler: .rr,
                localAddresses: (0..<lipCount).map { IPAddress(v4: 0x0AD2_0264 + UInt32($0)) },
                realServers: (0..<realServerCount).map {
                    RealServerConfiguration(address: IPAddress(v4: 0x0AD2_0202 + UInt32($0)), port: 8080, weight: 1)
                })
        ],
        connectionCapacity: capacity)
}

func network() -> NetworkView {
    NetworkView(
        interfaces: [
            InterfaceInfo(index: PathWorld.externalIndex, mac: PathWorld.externalMAC, mtu: 1500),
            InterfaceInfo(index: PathWorld.internalIndex, mac: PathWorld.internalMAC, mtu: 1500),
        ],
        routes: [
            Route(
                prefix: IPAddress(v4: 0x0AD2_0200), prefixLength: 24, interfaceIndex: PathWorld.internalIndex,
                gateway: nil),
            Route(
                prefix: IPAddress(v4: 0), prefixLength: 0, interfaceIndex: PathWorld.externalIndex,
                gateway: IPAddress(v4: 0x0AD2_0101)),
        ],
        neighbours: (0..<realServerCount).map {
            NeighbourEntry(
                interfaceIndex: PathWorld.internalIndex, address: IPAddress(v4: 0x0AD2_0202 + UInt32($0)),
                mac: MACAddress(0x0200_0000_0202 + UInt64($0)), state: NeighbourEntry.State.permanent)
        } + [
            NeighbourEntry(
                interfaceIndex: PathWorld.externalIndex, address: IPAddress(v4: 0x0AD2_0101),
                mac: PathWorld.clientMAC, state: NeighbourEntry.State.permanent)
        ],
        generation: 1)
}

/// Fills a data plane with `count` SYNs; returns (connections, forwarded, seconds).
func fillDataplane(_ dataplane: inout Dataplane, count: Int, network: NetworkView) -> (Int, Int, Double) {
    var template = PacketBuilder()
        .ethernet(src: PathWorld.clientMAC, dst: PathWorld.externalMAC)
        .ipv4(src: IPAddress(v4: 0x0A40_0001), dst: PathWorld.vip)
        .tcp(
            sport: 10_000, dport: 80, seq: 1_000_000, flags: TCPFlag.syn, window: 64240,
            options: [.mss(1460), .sackPermitted, .timestamps(val: 1, ecr: 0), .nop, .windowScale(7)]
        )
        .build()
    var buffer = PathWorld.makeBuffer()
    var forwarded = 0
    let clock = ContinuousClock()
    let start = clock.now
    for i in 0..<count {
        // Patch the client address and port of the template, checksums updated incrementally.
        let address = 0x0A40_0001 + UInt32(i / portsPerClient)
        let port = UInt16(10_000 + i % portsPerClient)
        var t = template.mutableSpan
        let oldAddress = t.u32(26)
        if oldAddress != address {
            t.rewrite32(address, at: 26, checksumAt: 24, dataStart: 14)
            t.set16(InternetChecksum.update(t.u16(50), old32: oldAddress, new32: address), at: 50)
        }
        t.rewrite16(port, at: 34, checksumAt: 50, dataStart: 34)
        _ = consume t
        buffer.replaceSubrange(0..<template.count, with: template)
        var length = template.count
        var frame = buffer.mutableSpan
        if dataplane.process(frame: &frame, length: &length, from: .external, now: 1_000, network: network)
            == .transmit(.internal)
        {
            forwarded += 1
        }
    }
    let elapsed = clock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    return (dataplane.connectionCount, forwarded, seconds)
}

func main() -> Int32 {
    let arguments = Array(CommandLine.arguments.dropFirst())
    let mode = arguments.first ?? "dataplane"
    let connections = arguments.count > 1 ? Int(arguments[1]) ?? -1 : 1_000_000
    let capacity = arguments.count > 2 ? Int(arguments[2]) ?? -1 : connections
    guard ["dataplane", "table"].contains(mode), connections > 0, capacity >= connections,
        connections <= lipCount * 64_511, connections <= clientAddresses * portsPerClient
    else {
        print("usage: memory-probe [dataplane|table] [CONNECTIONS ≤ 1000000] [CAPACITY ≥ CONNECTIONS]")
        return 2
    }

    // Static formula: the arrays sized by the capacity.
    let slots = slotCount(capacity: capacity)
    let entryBytes = MemoryLayout<Connection>.stride
    let freeLinkBytes = MemoryLayout<Int32>.stride
    let slotBytes = MemoryLayout<UInt64>.stride
    let wheelLinkBytes = 8  // TimerWheel.links: one packed UInt64 per id (internal, 8 per its docs)
    // The reply index: a block of 65 536 Int32 chain heads per LIP (one worker), sized by the LIPs,
    // plus the 4096-slot LIP map of UInt16 and the registry's addresses.
    // (The bare table registers its LIPs as entries arrive: TableLookupFixture's 32.)
    let lips = mode == "dataplane" ? lipCount : 32
    let replyBytes = lips * 65_536 * 4 + 4096 * 2 + lips * MemoryLayout<IPAddress>.stride
    let tableStatic = capacity * (entryBytes + freeLinkBytes) + slots * slotBytes
    let dataplaneStatic = tableStatic + replyBytes + capacity * wheelLinkBytes
    let holdSlots = min(max(capacity / 8, 64), 4096)
    // Hold-queue slots of 2 KiB with their id map (8 B per entry, 2 per slot), the output queue.
    let fixedStatic = holdSlots * (2048 + 16) + 256 * 2048

    let net = network()
    let before = residentBytes()
    var created = 0
    var filled = 0
    var count = 0
    var forwarded = 0
    var seconds = 0.0
    if mode == "dataplane" {
        var dataplane = Dataplane(
            configuration: configuration(capacity: capacity), worker: 0, workerCount: 1,
            externalInterface: PathWorld.externalIndex, internalInterface: PathWorld.internalIndex,
            secret: PathWorld.secret)
        created = residentBytes()
        (count, forwarded, seconds) = fillDataplane(&dataplane, count: connections, network: net)
        filled = residentBytes()
    } else {
        var table = ConnectionTable(capacity: capacity, seed: PathWorld.secret)
        created = residentBytes()
        let clock = ContinuousClock()
        let start = clock.now
        for i in 0..<connections where table.insert(TableLookupFixture.connection(i)) != nil {
            forwarded += 1
        }
        let elapsed = clock.now - start
        seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        count = table.count
        filled = residentBytes()
        guard table.slotCount == slots, table.memoryBytes == tableStatic + replyBytes else {
            print(
                "memory-probe: ConnectionTable's own size (\(table.memoryBytes) B, \(table.slotCount) slots) "
                    + "differs from the formula here (\(tableStatic + replyBytes) B, \(slots) slots)")
            return 1
        }
    }
    let perConnection = Double(filled - before) / Double(connections)
    print(
        "mode \(mode): capacity \(capacity), \(connections) connections requested, \(count) in the table, "
            + "\(forwarded) \(mode == "dataplane" ? "SYNs forwarded" : "inserted") in \(String(format: "%.2f", seconds)) s "
            + "(\(String(format: "%.0f", seconds * 1e9 / Double(connections))) ns each)")
    print("RSS before \(mib(before)), after init \(mib(created)), after fill \(mib(filled))")
    print("RSS growth: init \(mib(created - before)), fill \(mib(filled - created)), total \(mib(filled - before))")
    print(
        String(
            format: "measured: %.1f bytes per connection ((RSS after fill - RSS before) / %d)", perConnection,
            connections))
    print(
        "static, per connection-capacity slot: Connection \(entryBytes) + free/reply link \(freeLinkBytes) + index "
            + "\(slots) slots x \(slotBytes) / \(capacity) = \(String(format: "%.1f", Double(slots * slotBytes) / Double(capacity)))"
            + " + reply index \(lips) LIPs x 65536 x 4 / \(capacity) = "
            + String(format: "%.1f", Double(replyBytes) / Double(capacity))
            + (mode == "dataplane" ? " + timer-wheel link \(wheelLinkBytes) (internal type, from its docs)" : ""))
    let perSlot = Double(mode == "dataplane" ? dataplaneStatic : tableStatic + replyBytes) / Double(capacity)
    var staticLine = String(format: "static: %.1f bytes per connection at this capacity", perSlot)
    if mode == "dataplane" {
        staticLine +=
            ", plus " + mib(fixedStatic) + " fixed (hold-queue slots and their map, output queue) = "
            + String(
                format: "%.1f B per connection at %d", Double(dataplaneStatic + fixedStatic) / Double(connections),
                connections)
    }
    print(staticLine)
    print(
        String(format: "result: %.1f B/connection measured (target <= 160): ", perConnection)
            + (perConnection <= 160 ? "met" : "NOT met"))
    return count == connections ? 0 : 1
}

exit(main())
