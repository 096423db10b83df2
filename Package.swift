// swift-tools-version: 6.1
// uioemu: a userspace DMA driver on an emulated PowerPC board with an FPGA AXI DMA block and Linux UIO.
// Layers follow ../shared/DESIGN.md: one target (and one folder) per layer.
import PackageDescription

let package = Package(
    name: "uioemu",
    products: [
        .executable(name: "uioemu", targets: ["uioemu"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // Test and benchmark only: never linked into `uioemu`.
        .package(url: "https://github.com/ordo-one/malloc-interposer", from: "1.6.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibevent",
            pkgConfig: "libevent_core",
            providers: [.apt(["libevent-dev"])]
        ),
        .target(name: "CReactorSignals"),
        .target(name: "Reactor", dependencies: ["CLibevent", "CReactorSignals"]),
        // Typed events stamped with virtual time, their canonical JSONL and hash, and the file sinks.
        .target(name: "Trace", dependencies: ["Reactor", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "Board", dependencies: ["Trace", .product(name: "Yams", package: "Yams")]),
        // The stream patterns' byte loops, with AVX2 and AVX-512 variants picked at load time on x86-64.
        .target(name: "CStreamKernels"),
        .target(name: "Devices", dependencies: ["Board", "Reactor", "Trace", "CStreamKernels"]),
        .target(
            name: "UIO",
            dependencies: ["Board", "Reactor", "Devices", "Driver", "Trace", .product(name: "SystemPackage", package: "swift-system")]
        ),
        .target(
            name: "Driver",
            dependencies: [
                "Reactor",
                "Trace",
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            // The generic driver shells are specialised in the modules that instantiate them (a
            // concrete subclass per platform, see `ReceiveDriver`): that needs their bodies, which
            // cross-module optimisation makes available. Root package only (`unsafeFlags`).
            swiftSettings: [.unsafeFlags(["-cross-module-optimization"])]
        ),
        .target(
            name: "LinuxUIO",
            dependencies: ["Driver", "Reactor", .product(name: "SystemPackage", package: "swift-system")]
        ),
        // The receive driver on a real board (`uioemu driver`): the Driver on LinuxUIO's ports.
        .target(name: "RealBoard", dependencies: ["Driver", "LinuxUIO", "Reactor", .product(name: "SystemPackage", package: "swift-system")]),
        .target(name: "Scenario", dependencies: ["Board", "Devices", "UIO", "Driver", "Reactor", "Trace"]),
        .executableTarget(
            name: "uioemu",
            dependencies: [
                "Reactor", "Board", "Devices", "UIO", "Driver", "RealBoard", "Scenario", "Trace",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Raw libevent and memcpy floors in C, measured in the same process as the Swift figures.
        .target(name: "CBenchFloors", dependencies: ["CLibevent"], linkerSettings: [.linkedLibrary("event_core")]),
        .executableTarget(
            name: "uioemu-bench",
            dependencies: [
                "Reactor", "CBenchFloors", "Board", "Devices", "Scenario", "Trace", "AllocationCounting",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/uioemu-bench"
        ),
        // Test support: counts a thread's mallocs with malloc-interposer (never linked into uioemu).
        .target(
            name: "AllocationCounting",
            dependencies: [.product(name: "MallocInterposerSwift", package: "malloc-interposer")],
            path: "Tests/AllocationCounting"
        ),
        .testTarget(name: "ReactorTests", dependencies: ["Reactor", "AllocationCounting"]),
        .testTarget(name: "BoardTests", dependencies: ["Board"], exclude: ["Golden"]),
        .testTarget(name: "DevicesTests", dependencies: ["Devices", "Board", "Reactor", "CStreamKernels"]),
        .testTarget(name: "UIOTests", dependencies: ["UIO", "Board", "Reactor", "Devices"], exclude: ["Golden"]),
        .testTarget(
            name: "DriverTests",
            dependencies: [
                "Driver", "UIO", "Board", "Reactor", "Devices", "Scenario", "AllocationCounting",
            ]
        ),
        .testTarget(name: "ScenarioTests", dependencies: ["Scenario", "Board", "Devices", "Reactor"]),
        .testTarget(
            name: "TraceTests",
            dependencies: [
                "Trace", "Scenario", "Board", "Devices", "UIO", "Driver", "Reactor",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(name: "LinuxUIOTests", dependencies: ["LinuxUIO", "Driver", "Reactor", "UIO", "Board"]),
    ]
)
