// swift-tools-version: 6.0
import PackageDescription

// A separate package so the library's own manifest stays free of benchmark-only targets; run it with
// `swift run -c release --package-path Benchmarks TensorBenchmarks` from the repository root.
let package = Package(
    name: "swift-peft-benchmarks",
    dependencies: [
        .package(name: "swift-peft", path: "..")
    ],
    targets: [
        .executableTarget(
            name: "TensorBenchmarks",
            dependencies: [.product(name: "PEFTTensor", package: "swift-peft")]
        ),
        .executableTarget(
            name: "LoRAInferenceBenchmarks",
            dependencies: [.product(name: "PEFT", package: "swift-peft")]
        ),
        .executableTarget(
            name: "MixedAdapterBenchmarks",
            dependencies: [.product(name: "PEFT", package: "swift-peft")]
        ),
        .target(
            name: "BenchmarkSupport",
            dependencies: [.product(name: "PEFT", package: "swift-peft")]
        ),
        .executableTarget(
            name: "TrainingBenchmarks",
            dependencies: ["BenchmarkSupport", .product(name: "PEFT", package: "swift-peft")]
        ),
        .executableTarget(
            name: "DecodingBenchmarks",
            dependencies: ["BenchmarkSupport", .product(name: "PEFT", package: "swift-peft")]
        ),
    ]
)
