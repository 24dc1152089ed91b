import Foundation
import PEFTModels
import Testing

/// A random Llama-3-style model with the llama3-bpe tokenizer fixture beside it: a Hugging Face folder
/// of the Llama family as the command line and the GPT example receive one.
func llamaFolder() throws -> URL {
    let folder = try temporaryFolder()
    let tokenizerFixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(
            "PEFTTokenizersTests/Fixtures/llama3-bpe")
    let model = LlamaForCausalLM(
        configuration: LlamaConfiguration {
            $0.vocabularySize = 710
            $0.hiddenSize = 32
            $0.intermediateSize = 64
            $0.layerCount = 2
            $0.headCount = 4
            $0.keyValueHeads = 2
            $0.maximumPositions = 128
            $0.tieWordEmbeddings = true
            $0.bosTokenID = 705
            $0.eosTokenIDs = [706]
            $0.initializerRange = 0.2
        }, seed: 5)
    try model.save(to: folder)
    for name in ["tokenizer.json", "tokenizer_config.json"] {
        try FileManager.default.copyItem(
            at: tokenizerFixture.appendingPathComponent(name),
            to: folder.appendingPathComponent(name))
    }
    return folder
}

@Suite("A Llama-family folder on the command line")
struct LlamaFolderTests {
    @Test("peft forward, generate, train and merge accept a Llama-family folder")
    func commands() throws {
        let folder = try llamaFolder()
        let forward = try PEFTProcess([
            "forward", "--model", folder.path, "--input-ids", "705,12,40",
        ])
        #expect(forward.status == 0, "\(forward.standardError)")
        #expect(forward.standardOutput.contains("["))
        let generate = try PEFTProcess([
            "generate", "--model", folder.path, "--prompt", "hello", "--max-tokens", "5", "--json",
        ])
        #expect(generate.status == 0, "\(generate.standardError)")
        let object = try JSONSerialization.jsonObject(with: Data(generate.standardOutput.utf8))
        #expect(((object as? [String: Any])?["generated_ids"] as? [Int])?.count ?? 0 >= 1)

        let out = try temporaryFolder()
        let train = try PEFTProcess([
            "train", "--model", folder.path, "--task", "flip", "--method", "lora", "--steps", "2",
            "--batch-size", "2", "--eval-examples", "1", "--out", out.path,
        ])
        #expect(train.status == 0, "\(train.standardError)")
        let merged = try temporaryFolder()
        let merge = try PEFTProcess([
            "merge", "--model", folder.path, "--adapter",
            out.appendingPathComponent("adapter").path,
            "--out", merged.path,
        ])
        #expect(merge.status == 0, "\(merge.standardError)")
        #expect(
            FileManager.default.fileExists(
                atPath: merged.appendingPathComponent("tokenizer.json").path))
        let reloaded = try LlamaForCausalLM(contentsOf: merged)
        #expect(reloaded.configuration.keyValueHeadCount == 2)
    }

    @Test("Full fine-tuning of a Llama-family folder saves the trained model (it saved nothing)")
    func fullFineTuningSaves() throws {
        let folder = try llamaFolder()
        let out = try temporaryFolder()
        let train = try PEFTProcess([
            "train", "--model", folder.path, "--task", "flip", "--method", "full", "--steps", "2",
            "--batch-size", "2", "--eval-examples", "1", "--out", out.path,
        ])
        #expect(train.status == 0, "\(train.standardError)")
        let saved = try LlamaForCausalLM(contentsOf: out.appendingPathComponent("adapter"))
        let original = try LlamaForCausalLM(contentsOf: folder)
        let trained = saved.namedParameters().map(\.parameter.value.scalars)
        #expect(trained != original.namedParameters().map(\.parameter.value.scalars))
    }

    @Test("gpt-finetuning trains LoRA on a Llama-family folder with its default targets")
    func example() throws {
        let folder = try llamaFolder()
        let out = try temporaryFolder()
        let run = try PEFTProcess(
            ["--smoke", "--method", "lora", "--model", folder.path, "--out", out.path],
            executable: "gpt-finetuning")
        #expect(run.status == 0, "\(run.standardError)")
        #expect(run.standardOutput.contains("identical generations"), "\(run.standardOutput)")
        let configuration = try adapterConfiguration(out)
        #expect(
            Set(configuration["target_modules"] as? [String] ?? []) == ["q_proj", "v_proj"],
            "\(configuration)")
    }
}
