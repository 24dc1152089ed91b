// swift-tools-version: 6.0
// A package outside swift-peft that adds a PEFT method of its own and uses it through PEFTModel, as a
// user's package would: it depends on swift-peft by path and imports only its public API.
import PackageDescription

let package = Package(
    name: "CustomMethod",
    products: [
        .library(name: "ScaleShift", targets: ["ScaleShift"]),
        .executable(name: "custom-method-demo", targets: ["CustomMethodDemo"]),
    ],
    dependencies: [.package(name: "swift-peft", path: "../..")],
    targets: [
        .target(name: "ScaleShift", dependencies: [.product(name: "PEFT", package: "swift-peft")]),
        .executableTarget(name: "CustomMethodDemo", dependencies: ["ScaleShift"]),
    ]
)
