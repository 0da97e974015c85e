// swift-tools-version:6.2
// Sluice's fuzz targets: a separate package (as Perf/), built with `-sanitize=fuzzer,address` by the
// Makefile (`make fuzz-smoke`, `make fuzz`; Fuzz/README.md). It depends on the root package by path.
//
//   fuzz-dataplane       the whole packet handler, `Dataplane.process`, with state kept across the frames
//                        of one input, over services in every mode (FULLNAT, SYN proxy, TOA, PROXY v1 and
//                        v2, UDP, IPv6, persistence, Maglev), both interfaces and the timer wheel.
//   fuzz-client-address  the PROXY protocol parser and the TOA and PROXY writers on arbitrary segments.
//   fuzz-netlink         rtnetlink datagrams through the netlink mirror's parser and tables.
//   fuzz-config          the configuration loader (YAML limits, composing, reading, every check).
//   FuzzSupport          the libFuzzer entry point, the input reader and the seed writer both share.
import PackageDescription

let package = Package(
    name: "SluiceFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "Sluice", path: "..")],
    targets: [
        .target(
            name: "FuzzSupport",
            dependencies: [
                .product(name: "SluiceCore", package: "Sluice"), .product(name: "SluicePacket", package: "Sluice"),
                .product(name: "SluiceTestKit", package: "Sluice"),
            ]),
        .executableTarget(name: "fuzz-dataplane", dependencies: ["FuzzSupport"]),
        .executableTarget(name: "fuzz-client-address", dependencies: ["FuzzSupport"]),
        .executableTarget(
            name: "fuzz-netlink", dependencies: ["FuzzSupport", .product(name: "SluiceXDP", package: "Sluice")]),
        .executableTarget(
            name: "fuzz-config", dependencies: ["FuzzSupport", .product(name: "SluiceControl", package: "Sluice")]),
    ]
)
