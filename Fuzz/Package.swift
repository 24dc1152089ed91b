// swift-tools-version: 6.0
// libFuzzer harnesses for the readers of outside input: each executable is one fuzz target, built
// with `-sanitize=fuzzer,address` by Scripts/fuzz.sh (a separate package, so the main build never
// needs the fuzzer runtime).
import PackageDescription

let package = Package(
    name: "PEFTFuzz",
    dependencies: [.package(name: "swift-peft", path: "..")],
    targets: [
        .target(name: "CFuzzerDriver"),
        .target(name: "FuzzSupport", dependencies: ["CFuzzerDriver"]),
        .executableTarget(
            name: "FuzzSafeTensors",
            dependencies: ["FuzzSupport", .product(name: "PEFT", package: "swift-peft")]),
        .executableTarget(
            name: "FuzzAdapterConfiguration",
            dependencies: ["FuzzSupport", .product(name: "PEFT", package: "swift-peft")]),
        .executableTarget(
            name: "FuzzModelConfiguration",
            dependencies: ["FuzzSupport", .product(name: "PEFT", package: "swift-peft")]),
        .executableTarget(
            name: "FuzzTokenizer",
            dependencies: ["FuzzSupport", .product(name: "PEFT", package: "swift-peft")]),
        .executableTarget(
            name: "FuzzChatTemplate",
            dependencies: ["FuzzSupport", .product(name: "PEFT", package: "swift-peft")]),
        .executableTarget(
            name: "FuzzJSONLines",
            dependencies: ["FuzzSupport", .product(name: "PEFTTraining", package: "swift-peft")]),
    ]
)
