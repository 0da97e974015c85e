// swift-tools-version:6.2
// Sluice: a FULLNAT / SYNPROXY layer-4 gateway on AF_XDP.
//
// Module boundaries (see README, "Design"):
//   SluicePacket  pure byte-level views, checksums, encoders        (imports nothing)
//   SluiceCore    pure data-plane logic: tables, NAT, schedulers    (imports SluicePacket)
//   SluiceXDP     the only I/O and the only `unsafe` code           (imports CXDP, SluiceCore)
//   SluiceControl config model, validation, control plane           (imports SluiceCore, SluiceXDP)
import PackageDescription

let strict: [SwiftSetting] = [
    .strictMemorySafety(),
    .treatAllWarnings(as: .error),
]

let package = Package(
    name: "Sluice",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "sluice", targets: ["sluice"]),
        .executable(name: "sluicectl", targets: ["sluicectl"]),
        .library(name: "SluicePacket", targets: ["SluicePacket"]),
        .library(name: "SluiceCore", targets: ["SluiceCore"]),
        .library(name: "SluiceXDP", targets: ["SluiceXDP"]),
        .library(name: "SluiceControl", targets: ["SluiceControl"]),
        .library(name: "SluiceTestKit", targets: ["SluiceTestKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
    ],
    targets: [
        // C: libxdp/libbpf headers and the structs shared with the BPF program.
        .systemLibrary(name: "CXDP", path: "Sources/CXDP", pkgConfig: "libxdp"),
        // Host tool + build plugin that compile Sources/BPF/*.bpf.c and embed the object as Swift source.
        .executableTarget(name: "bpf-embed", path: "Sources/bpf-embed"),
        .plugin(
            name: "BPFPlugin", capability: .buildTool(), dependencies: ["bpf-embed"], path: "Sources/BPFPlugin"),
        .target(name: "SluiceBPF", path: "Sources/SluiceBPF", swiftSettings: strict, plugins: ["BPFPlugin"]),

        .target(name: "SluicePacket", swiftSettings: strict),
        .target(name: "SluiceCore", dependencies: ["SluicePacket"], swiftSettings: strict),
        .target(
            name: "SluiceXDP",
            dependencies: ["CXDP", "SluiceBPF", "SluiceCore", "SluicePacket"],
            swiftSettings: strict
        ),
        .target(
            name: "SluiceControl",
            dependencies: [
                "SluiceCore", "SluicePacket", "SluiceXDP", "SluiceAdmin",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "sluice",
            dependencies: [
                "SluiceControl", "SluiceCore", "SluiceXDP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // The admin API's JSON types and ipvsadm-style listings, shared by the daemon and sluicectl.
        .target(name: "SluiceAdmin", swiftSettings: strict),
        .executableTarget(
            name: "sluicectl",
            dependencies: [
                "SluiceAdmin",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .target(name: "SluiceTestKit", dependencies: ["SluicePacket", "SluiceCore"], swiftSettings: strict),

        .testTarget(name: "SluicePacketTests", dependencies: ["SluicePacket", "SluiceTestKit"], swiftSettings: strict),
        .testTarget(name: "SluiceCoreTests", dependencies: ["SluiceCore", "SluiceTestKit"], swiftSettings: strict),
        .testTarget(name: "SluiceXDPTests", dependencies: ["SluiceXDP", "SluiceTestKit"], swiftSettings: strict),
        .testTarget(name: "SluiceAdminTests", dependencies: ["SluiceAdmin"], swiftSettings: strict),
        .testTarget(
            name: "SluiceControlTests",
            dependencies: [
                "SluiceControl", "SluiceTestKit", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)
