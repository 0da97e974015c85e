// swift-tools-version:6.2
// Sluice's performance suite: a separate package (as swift-nio's Benchmarks/), so that the root package
// neither depends on ordo-one/benchmark nor builds it. It depends on the root package by path.
//
//   FullNATBenchmarks   per-packet cost of the established FULLNAT path (Swift `Dataplane.process`)
//                       next to a C reference of the same rewrite, measured in one run.
//   CFullNATReference   that C reference (parse, flow lookup, NAT rewrite, incremental checksums).
//   FullNATFixtures     topology, handshake, frames, and the Swift/C per-packet steps both executables use.
//   fullnat-probe       the same two loops as a plain executable, for callgrind instruction counts.
//   SynProxyBenchmarks  per-packet cost of the SYNPROXY paths: client SYN → cookie SYN-ACK, and a
//                       valid-cookie ACK → connection + RS SYN (fixtures in SynProxyFixtures).
//   synproxy-probe      those two loops as a plain executable, for callgrind instruction counts.
//   PathBenchmarks      ICMP translation, connection-table lookups at 10/50/90 % fill, TOA and PROXY
//                       header insertion (pure packet operations and through `Dataplane.process`);
//                       fixtures in PathFixtures.
//   path-probe          those loops as a plain executable, for callgrind instruction counts.
//   memory-probe        bytes per connection with 10^6 connections in a data plane, from RSS and by formula.
//   SchedulerBenchmarks ns per scheduling decision of each IPVS scheduler at 2/16/256 servers, Maglev rebuild.
//   xdp-syn-probe       ns per frame of the XDP program's SYN answer (BPF_PROG_TEST_RUN; root, micro-xdp.sh).
//
// Run from Perf/:  swift package benchmark            (see Perf/README.md for thresholds and scripts)
import PackageDescription

let strict: [SwiftSetting] = [
    .strictMemorySafety(),
    .treatAllWarnings(as: .error),
]

let package = Package(
    name: "SluicePerf",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Sluice", path: ".."),
        // The trait list replaces the default traits: MallocInterposer gives mallocCountTotal on Swift 6.3
        // without jemalloc; RuntimeInterposer (ARC counters) is left out on purpose.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .target(name: "CFullNATReference", path: "Sources/CFullNATReference"),
        .target(
            name: "FullNATFixtures",
            dependencies: [
                "CFullNATReference",
                .product(name: "SluiceCore", package: "Sluice"),
                .product(name: "SluicePacket", package: "Sluice"),
                .product(name: "SluiceTestKit", package: "Sluice"),
            ],
            path: "Sources/FullNATFixtures",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "fullnat-probe",
            dependencies: ["FullNATFixtures", .product(name: "SluiceCore", package: "Sluice")],
            path: "Sources/fullnat-probe",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "FullNATBenchmarks",
            dependencies: [
                "FullNATFixtures",
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/FullNATBenchmarks",
            swiftSettings: strict,
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // SYNPROXY (issue 3): cookie SYN-ACK and valid-cookie ACK paths; see Perf/README.md.
        .target(
            name: "SynProxyFixtures",
            dependencies: [
                "FullNATFixtures",
                .product(name: "SluiceCore", package: "Sluice"),
                .product(name: "SluicePacket", package: "Sluice"),
                .product(name: "SluiceTestKit", package: "Sluice"),
            ],
            path: "Sources/SynProxyFixtures",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "synproxy-probe",
            dependencies: ["SynProxyFixtures", .product(name: "SluiceCore", package: "Sluice")],
            path: "Sources/synproxy-probe",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "SynProxyBenchmarks",
            dependencies: [
                "SynProxyFixtures",
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/SynProxyBenchmarks",
            swiftSettings: strict,
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // The remaining per-packet paths of issue 5 and the memory probe; see Perf/README.md "Micro benchmarks".
        .target(
            name: "PathFixtures",
            dependencies: [
                "FullNATFixtures",
                .product(name: "SluiceCore", package: "Sluice"),
                .product(name: "SluicePacket", package: "Sluice"),
                .product(name: "SluiceTestKit", package: "Sluice"),
            ],
            path: "Sources/PathFixtures",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "path-probe",
            dependencies: ["PathFixtures", .product(name: "SluiceCore", package: "Sluice")],
            path: "Sources/path-probe",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "memory-probe",
            dependencies: [
                "PathFixtures",
                .product(name: "SluiceCore", package: "Sluice"),
                .product(name: "SluicePacket", package: "Sluice"),
                .product(name: "SluiceTestKit", package: "Sluice"),
            ],
            path: "Sources/memory-probe",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "xdp-syn-probe",
            dependencies: [
                .product(name: "SluiceCore", package: "Sluice"),
                .product(name: "SluicePacket", package: "Sluice"),
                .product(name: "SluiceTestKit", package: "Sluice"),
                .product(name: "SluiceXDP", package: "Sluice"),
            ],
            path: "Sources/xdp-syn-probe",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "PathBenchmarks",
            dependencies: [
                "PathFixtures",
                .product(name: "SluiceCore", package: "Sluice"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/PathBenchmarks",
            swiftSettings: strict,
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // Scheduling decisions per IPVS algorithm and the Maglev rebuild; see Perf/README.md "Schedulers".
        .executableTarget(
            name: "SchedulerBenchmarks",
            dependencies: [
                .product(name: "SluiceCore", package: "Sluice"),
                .product(name: "SluicePacket", package: "Sluice"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/SchedulerBenchmarks",
            swiftSettings: strict,
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
