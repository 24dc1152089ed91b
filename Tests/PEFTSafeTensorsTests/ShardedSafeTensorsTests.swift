import Foundation
import PEFTTestSupport
import Testing

@testable import PEFTSafeTensors

@Suite("Sharded safetensors checkpoints")
struct ShardedSafeTensorsTests {
    private func shardedIndexURL() throws -> URL {
        try fixturesFolder().appendingPathComponent("sharded/model.safetensors.index.json")
    }

    @Test("Every tensor of the Python-written two-shard checkpoint reads from its shard")
    func readsAcrossShards() throws {
        let expected = try expectedFixtures()
        let checkpoint = try ShardedSafeTensors(indexURL: shardedIndexURL())
        #expect(
            checkpoint.tensorNames
                == ["head.weight", "layers.0.bias", "layers.0.weight", "layers.1.weight"])
        #expect(checkpoint.index.shardNames.count == 2)
        #expect(checkpoint.index.totalSize == 24 + 8 + 24 + 4)
        for name in checkpoint.tensorNames {
            let shardName = try #require(checkpoint.index.weightMap[name])
            let tensor = try #require(expected["sharded/\(shardName)"]?.tensors[name])
            #expect(try checkpoint.info(name).shape == tensor.shape)
            let values = try checkpoint.floats(name)
            #expect(values.map(\.bitPattern) == tensor.bits, "\(name)")
        }
        #expect(try checkpoint.info("head.weight").dtype == .float16)
        #expect(try checkpoint.shard(containing: "layers.0.bias").metadata == ["format": "pt"])
    }

    @Test("A tensor the index does not list throws tensorNotFound naming the index")
    func unknownTensor() throws {
        let url = try shardedIndexURL()
        let checkpoint = try ShardedSafeTensors(indexURL: url)
        #expect(throws: SafeTensorsError.tensorNotFound(file: url.path, tensor: "missing")) {
            try checkpoint.floats("missing")
        }
    }

    @Test(
        "A shard name that could leave the checkpoint's folder is rejected",
        arguments: [
            "../secret.safetensors", "/etc/passwd", "sub/model.safetensors", "..", ".", "",
            "a\\b.safetensors",
        ])
    func unsafeShardNames(shard: String) throws {
        let quoted = String(decoding: try JSONEncoder().encode(shard), as: UTF8.self)
        let json = #"{"metadata":{},"weight_map":{"w":\#(quoted)}}"#
        let error = #expect(throws: SafeTensorsError.self) {
            try SafeTensorsIndex(data: Data(json.utf8), name: "index.json")
        }
        #expect(error == .unsafeShardName(file: "index.json", tensor: "w", shard: shard))
    }

    @Test(
        "An index without a weight map, with a non-string shard or with one tensor twice is invalid"
    )
    func invalidIndexes() {
        let equivalentNames =
            #"{"weight_map":{"\u00e9":"a.safetensors","e\u0301":"b.safetensors"}}"#
        for json in [
            #"{"metadata":{}}"#, #"{"weight_map":{"w":3}}"#, "[]", #"{"weight_map":{"#,
            equivalentNames,
        ] {
            let error = #expect(throws: SafeTensorsError.self) {
                try SafeTensorsIndex(data: Data(json.utf8), name: "index.json")
            }
            guard case .invalidIndex(let file, _) = error else {
                Issue.record("expected invalidIndex for \(json), got \(String(describing: error))")
                continue
            }
            #expect(file == "index.json")
        }
    }

    @Test("A shard that lacks a tensor the index assigns to it throws tensorMissingFromShard")
    func tensorMissingFromShard() throws {
        let folder = testScratchRoot.appendingPathComponent(
            "sharded-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var writer = SafeTensorsWriter()
        try writer.add("present", shape: [1], values: [1])
        try writer.write(to: folder.appendingPathComponent("shard.safetensors"))
        let indexURL = folder.appendingPathComponent("model.safetensors.index.json")
        let json = #"{"weight_map":{"present":"shard.safetensors","absent":"shard.safetensors"}}"#
        try Data(json.utf8).write(to: indexURL)

        let checkpoint = try ShardedSafeTensors(indexURL: indexURL)
        #expect(try checkpoint.floats("present") == [1])
        #expect(
            throws: SafeTensorsError.tensorMissingFromShard(
                file: indexURL.path, tensor: "absent", shard: "shard.safetensors")
        ) {
            try checkpoint.floats("absent")
        }
    }
}
