// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "swift-peft",
    products: [
        .library(name: "PEFT", targets: ["PEFT"]),
        .library(name: "PEFTTensor", targets: ["PEFTTensor"]),
        .library(name: "PEFTNN", targets: ["PEFTNN"]),
        .library(name: "PEFTModels", targets: ["PEFTModels"]),
        .library(name: "PEFTDistributed", targets: ["PEFTDistributed"]),
        // Examples, batches and evaluation for training loops of one's own (and the fuzz targets).
        .library(name: "PEFTTraining", targets: ["PEFTTraining"]),
        .executable(name: "peft", targets: ["PEFTCommand"]),
        .executable(name: "gpt-finetuning", targets: ["GPTFineTuning"]),
        .executable(name: "t5-finetuning", targets: ["T5FineTuning"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // MARK: C shims

        .systemLibrary(
            name: "CPEFTBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]
        ),

        // Open MPI's calls, resolved with dlopen at run time: nothing of MPI is needed to build.
        .target(name: "CPEFTMPI", linkerSettings: [.linkedLibrary("dl")]),

        // MARK: Libraries

        .target(name: "PEFTTensor", dependencies: ["CPEFTBLAS"]),
        .target(name: "PEFTJSON"),
        .target(name: "PEFTSafeTensors", dependencies: ["PEFTJSON"]),
        .target(name: "PEFTNN", dependencies: ["PEFTTensor", "PEFTSafeTensors"]),
        .target(name: "PEFTTokenizers", dependencies: ["PEFTJSON"]),
        .target(name: "PEFTModels", dependencies: ["PEFTNN", "PEFTTokenizers"]),
        .target(
            name: "PEFT",
            dependencies: [
                "PEFTTensor", "PEFTSafeTensors", "PEFTNN", "PEFTModels", "PEFTTokenizers",
            ]),

        .target(name: "PEFTDistributed", dependencies: ["PEFTNN", "CPEFTMPI"]),
        .target(name: "PEFTTraining", dependencies: ["PEFT"]),
        .target(
            name: "PEFTTrainingOptions",
            dependencies: [
                "PEFTTraining", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // MARK: Command line

        .executableTarget(
            name: "PEFTCommand",
            dependencies: [
                "PEFT", "PEFTTraining", "PEFTTrainingOptions", "PEFTDistributed",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),

        // MARK: Examples

        .executableTarget(
            name: "GPTFineTuning",
            dependencies: [
                "PEFTTraining", "PEFTTrainingOptions",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/GPTFineTuning"
        ),
        .executableTarget(
            name: "T5FineTuning",
            dependencies: [
                "PEFTTraining", "PEFTTrainingOptions",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/T5FineTuning"
        ),

        // MARK: Tests

        .target(
            name: "PEFTTestSupport",
            dependencies: ["PEFTTensor"],
            path: "Tests/PEFTTestSupport",
            resources: [.copy("Fixtures")]
        ),
        .testTarget(name: "PEFTTensorTests", dependencies: ["PEFTTensor", "PEFTTestSupport"]),
        .testTarget(name: "PEFTNNTests", dependencies: ["PEFTNN", "PEFTTestSupport"]),
        .testTarget(name: "PEFTModelsTests", dependencies: ["PEFTModels", "PEFTTestSupport"]),
        .testTarget(name: "PEFTTests", dependencies: ["PEFT", "PEFTTestSupport"]),
        .testTarget(name: "PEFTTrainingTests", dependencies: ["PEFTTraining", "PEFTTestSupport"]),
        .testTarget(
            name: "PEFTDistributedTests", dependencies: ["PEFTDistributed", "PEFTTestSupport"]),
        .testTarget(
            name: "PEFTCommandTests",
            dependencies: [
                "PEFTCommand", "GPTFineTuning", "T5FineTuning", "PEFTModels", "PEFTSafeTensors",
                "PEFTTestSupport",
            ]
        ),
        .testTarget(
            name: "PEFTSafeTensorsTests",
            dependencies: ["PEFTSafeTensors", "PEFTTestSupport"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "PEFTTokenizersTests",
            dependencies: ["PEFTTokenizers", "PEFTTestSupport"],
            resources: [.copy("Fixtures")]
        ),
    ]
)
