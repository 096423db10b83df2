// swift-tools-version: 6.1
// uioemu: a userspace DMA driver on an emulated PowerPC board with an FPGA AXI DMA block and Linux UIO.
// Layers follow ../shared/DESIGN.md: one target (and one folder) per layer.
import PackageDescription

/// Cross-module optimisation for the layers a completion passes through (Board, Devices, UIO,
/// Driver). By default it hands on to other modules the bodies of generic functions and of
/// non-generic ones below an inline cost of 20 (`cmo-function-size-limit`): the AXI DMA core's
/// register decode, the UIO mapping's accessor and the receive state machine's inputs are larger,
/// so every register access from the driver was a chain of calls (mapping, core, channel) and each
/// machine input a call returning its action list. With the limit raised, the specialised driver
/// shell (`EmulatedReceiveDriver`, in Scenario) inlines the register access down to the channel's
/// register, and a machine input into the shell that performs its actions: the layers stay
/// separate modules with their import rules, and are merged at compile time (issue 17, target 3).
let layerCrossModule: [SwiftSetting] = [.unsafeFlags(["-cross-module-optimization", "-Xllvm", "-cmo-function-size-limit=3000"])]

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
        // libfdt, to read flattened device trees (Debian's libfdt-dev has no pkg-config file).
        .systemLibrary(name: "CFdt", providers: [.apt(["libfdt-dev"])]),
        .target(name: "CReactorSignals"),
        .target(name: "Reactor", dependencies: ["CLibevent", "CReactorSignals"], swiftSettings: [.unsafeFlags(["-cross-module-optimization"])]),
        // Typed events stamped with virtual time, their canonical JSON line and the sink protocol:
        // what the models record through. No I/O and no Crypto, so a model builds without them.
        .target(name: "Trace", dependencies: ["Reactor"]),
        // The sinks, used at the edge (Scenario, the CLI, the benchmark, tests): the JSON-lines,
        // Perfetto and VCD files and the SHA-256 of the canonical lines.
        .target(name: "TraceFiles", dependencies: ["Trace", "Reactor", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "Board", dependencies: ["Trace", .product(name: "Yams", package: "Yams")], swiftSettings: layerCrossModule),
        // The stream patterns' byte loops, with AVX2 and AVX-512 variants picked at load time on x86-64.
        .target(name: "CStreamKernels"),
        .target(name: "Devices", dependencies: ["Board", "Reactor", "Trace", "CStreamKernels"], swiftSettings: layerCrossModule),
        // The protocols a driver talks through (registers, interrupt source, DMA buffers): what the
        // platforms implement, without the driver itself.
        .target(name: "DriverPorts", dependencies: ["Reactor", .product(name: "SystemPackage", package: "swift-system")]),
        .target(
            name: "UIO",
            dependencies: ["Board", "Reactor", "Devices", "DriverPorts", "Trace", .product(name: "SystemPackage", package: "swift-system")],
            swiftSettings: layerCrossModule
        ),
        .target(
            name: "Driver",
            dependencies: [
                "DriverPorts",
                "Reactor",
                "Trace",
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            // The generic driver shells are specialised in the modules that instantiate them (a
            // concrete subclass per platform, see `ReceiveDriver`): that needs their bodies, which
            // cross-module optimisation makes available. Root package only (`unsafeFlags`).
            swiftSettings: layerCrossModule
        ),
        .target(
            name: "LinuxUIO",
            dependencies: ["DriverPorts", "Reactor", .product(name: "SystemPackage", package: "swift-system")]
        ),
        // The attach protocol's layout (shared with the C preload library in Sources/AttachPreload) and
        // the host-side calls Swift cannot make directly (fork + PR_SET_NO_NEW_PRIVS, futexes, SCM_RIGHTS).
        .target(name: "CAttachProtocol"),
        // An unmodified driver process on the emulated board (DESIGN.md, "Attaching a user's driver process").
        .target(name: "Attach", dependencies: ["CAttachProtocol", "Board", "Devices", "UIO", "Reactor", "Trace"]),
        // The receive driver on a real board (`uioemu driver`): the Driver on LinuxUIO's ports.
        .target(name: "RealBoard", dependencies: ["Driver", "LinuxUIO", "Reactor", .product(name: "SystemPackage", package: "swift-system")]),
        // `uioemu board import`: a device tree (DTS through dtc, or DTB) read with libfdt into a board profile.
        .target(name: "DeviceTree", dependencies: ["Board", "Devices", "CFdt"]),
        // The protocol checker: a trace sink over the models' typed events (DESIGN.md, "Protocol checker").
        .target(name: "Checks", dependencies: ["Trace", "Reactor", "Board", "Devices"]),
        .target(
            name: "Scenario",
            dependencies: [
                "Board", "Devices", "UIO", "Driver", "Reactor", "Trace", "TraceFiles", "Attach", "Checks",
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        .executableTarget(
            name: "uioemu",
            dependencies: [
                "Reactor", "Board", "Devices", "UIO", "Driver", "RealBoard", "Scenario", "Trace", "TraceFiles", "Attach", "DeviceTree",
                "Checks", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Raw libevent and memcpy floors in C, measured in the same process as the Swift figures.
        .target(name: "CBenchFloors", dependencies: ["CLibevent", "CStreamKernels"], linkerSettings: [.linkedLibrary("event_core")]),
        .executableTarget(
            name: "uioemu-bench",
            dependencies: [
                "Reactor", "CBenchFloors", "Board", "Devices", "Scenario", "Trace", "TraceFiles", "AllocationCounting",
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
        // Devices for `DeviceKinds.standard`: the shipped profiles name its kinds.
        .testTarget(name: "BoardTests", dependencies: ["Board", "Devices"], exclude: ["Golden"]),
        .testTarget(name: "DevicesTests", dependencies: ["Devices", "Board", "Reactor", "CStreamKernels"]),
        .testTarget(name: "UIOTests", dependencies: ["UIO", "Board", "Reactor", "Devices"], exclude: ["Golden"]),
        .testTarget(
            name: "DriverTests",
            dependencies: [
                "Driver", "UIO", "Board", "Reactor", "Devices", "Scenario", "Trace", "TraceFiles", "AllocationCounting",
            ]
        ),
        .testTarget(name: "DeviceTreeTests", dependencies: ["DeviceTree", "Board", "Devices"]),
        .testTarget(name: "ScenarioTests", dependencies: ["Scenario", "Board", "Devices", "Reactor"]),
        .testTarget(name: "ChecksTests", dependencies: ["Checks", "Scenario", "Board", "Devices", "Reactor", "Trace", "UIO"]),
        .testTarget(
            name: "TraceTests",
            dependencies: [
                "Trace", "TraceFiles", "Scenario", "Board", "Devices", "UIO", "Driver", "Reactor",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(name: "AttachTests", dependencies: ["Attach", "CAttachProtocol", "Board", "Devices", "Reactor", "UIO", "Scenario"]),
        // Runs scripts/check-layers on the tree and on copies with a planted wrong import.
        .testTarget(name: "LayeringTests"),
        .testTarget(name: "LinuxUIOTests", dependencies: ["LinuxUIO", "Driver", "Reactor", "UIO", "Board", "Devices"]),
        // The benchmark's verdicts: a row PASSes only on a run whose invariants held; the callgrind gate's reading.
        .testTarget(name: "BenchTests", dependencies: ["uioemu-bench"]),
    ]
)

// The fuzz targets (`make fuzz`, Fuzz/README.md): libFuzzer drivers, linked only with
// -sanitize=fuzzer,address, so they exist only when UIOEMU_FUZZ is set.
if Context.environment["UIOEMU_FUZZ"] != nil {
    package.targets += [
        .target(name: "CFuzzer", path: "Fuzz/CFuzzer"),
        .executableTarget(name: "fuzz-profile", dependencies: ["CFuzzer", "Board", "Devices"], path: "Fuzz/Profile"),
        .executableTarget(name: "fuzz-scenario", dependencies: ["CFuzzer", "Board", "Scenario"], path: "Fuzz/Scenario"),
        .executableTarget(name: "fuzz-control", dependencies: ["CFuzzer", "Attach"], path: "Fuzz/ControlMessage"),
        .executableTarget(name: "fuzz-dtb", dependencies: ["CFuzzer", "Board", "DeviceTree", "Devices"], path: "Fuzz/DeviceTree"),
    ]
}
