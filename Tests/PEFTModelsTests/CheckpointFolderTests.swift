import Foundation
import PEFTModels
import PEFTNN
import PEFTSafeTensors
import PEFTTensor
import PEFTTestSupport
import Testing

@Suite("Checkpoint folders")
struct CheckpointFolderTests {
    @Test(
        "A model sharded over two files with an index loads to the same logits as the single file")
    func sharded() throws {
        let source = ParityFixture.folder("gpt2-tiny")
        let file = try SafeTensorsFile(
            contentsOf: source.appendingPathComponent("model.safetensors"))
        let folder = testScratchRoot.appendingPathComponent(
            "peft-sharded-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            at: source.appendingPathComponent("config.json"),
            to: folder.appendingPathComponent("config.json"))
        let names = file.tensorNames.sorted()
        var weightMap: [String: String] = [:]
        for (shard, part) in [
            Array(names.prefix(names.count / 2)), Array(names.dropFirst(names.count / 2)),
        ].enumerated() {
            let shardName = "model-0000\(shard + 1)-of-00002.safetensors"
            var writer = SafeTensorsWriter(metadata: ["format": "pt"])
            for name in part {
                try writer.add(name, shape: file.info(name)!.shape, values: try file.floats(name))
                weightMap[name] = shardName
            }
            try writer.write(to: folder.appendingPathComponent(shardName))
        }
        let index: [String: Any] = ["metadata": ["total_size": 0], "weight_map": weightMap]
        try JSONSerialization.data(withJSONObject: index)
            .write(to: folder.appendingPathComponent("model.safetensors.index.json"))

        let sharded = try GPT2LMHeadModel(contentsOf: folder)
        let single = try GPT2LMHeadModel(contentsOf: source)
        sharded.eval()
        single.eval()
        let tokens = [[5, 17, 42, 8]]
        #expect(sharded(tokens).scalars == single(tokens).scalars)
    }

    @Test("Config values a model cannot be built from are refused by key")
    func badConfiguration() throws {
        let folder = testScratchRoot.appendingPathComponent(
            "peft-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(#"{"model_type": "gpt2", "n_embd": 30, "n_head": 4}"#.utf8)
            .write(to: folder.appendingPathComponent("config.json"))
        #expect {
            try GPT2LMHeadModel(contentsOf: folder)
        } throws: { error in
            guard case ModelLoadingError.malformedConfig(_, let key, _) = error else {
                return false
            }
            return key == "n_embd"
        }
        try Data(#"{"model_type": "t5", "d_model": "wide"}"#.utf8).write(
            to: folder.appendingPathComponent("config.json"))
        #expect {
            try T5ForConditionalGeneration(contentsOf: folder)
        } throws: { error in
            guard case ModelLoadingError.malformedConfig(_, let key, _) = error else {
                return false
            }
            return key == "d_model"
        }
    }
}
