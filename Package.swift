// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "ResetVector",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "resetvector", targets: ["resetvector"]),
        .library(name: "X86", targets: ["X86"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // Layer 0: the CPU. Knows only the Bus and InterruptController protocols.
        .target(name: "X86"),
        // A tiny assembler used to build the project's own guests, workloads and firmware.
        .target(name: "X86Asm"),
        // zlib for reading the gzip'd JSON Lines vector files.
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        // One type per device, the Device protocol, and what devices may ask of the board.
        .target(name: "Hardware"),
        // What a board's ROM and tables hold, and the project's own guest programs.
        // (zlib checks a gzip'd initramfs before a Linux boot.)
        .target(name: "Firmware", dependencies: ["X86Asm", "CZlib"]),
        // The board: memory, devices, power & reset controller, trace; and the benchmark.
        .target(name: "Machine", dependencies: ["X86", "Hardware", "Firmware"]),
        // The control socket (QMP): a user's scripts drive a running machine.
        .target(name: "Control", dependencies: ["Machine", "Hardware", "X86"]),
        // Runs hardware-captured single-instruction vectors, and the differential oracle's
        // cases (Tools/differential), against the CPU.
        .target(name: "VectorHarness", dependencies: ["X86", "X86Asm", "CZlib"]),
        .executableTarget(
            name: "resetvector",
            dependencies: [
                "Machine", "Hardware", "Firmware", "VectorHarness", "Control",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "X86Tests", dependencies: ["X86", "X86Asm"]),
        .testTarget(name: "X86AsmTests", dependencies: ["X86Asm"]),
        .testTarget(name: "HardwareTests", dependencies: ["Hardware"]),
        .testTarget(name: "FirmwareTests", dependencies: ["Firmware"]),
        .testTarget(name: "MachineTests", dependencies: ["Machine", "Firmware", "Hardware", "X86", "X86Asm"]),
        .testTarget(name: "VectorTests", dependencies: ["VectorHarness"]),
        .testTarget(name: "ControlTests", dependencies: ["Control", "Machine", "Hardware"]),
        // Runs the built `resetvector` as a user would: options, outputs, statuses.
        .testTarget(name: "CommandLineTests", dependencies: ["resetvector", "X86Asm"]),
    ]
)
