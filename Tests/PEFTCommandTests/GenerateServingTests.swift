import Foundation
import PEFT
import PEFTModels
import PEFTTestSupport
import Testing

@Suite("peft generate --prompts")
struct GenerateServingTests {
    /// A GPT-2 folder with the BPE tokenizer and no end-of-sequence token, and two adapter folders
    /// (LoRA and DoRA) with random weights.
    func folders() throws -> (model: URL, first: URL, second: URL) {
        let root = try temporaryFolder()
        let model = root.appendingPathComponent("model")
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        let tokenizer = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../PEFTTokenizersTests/Fixtures/gpt2-bpe/tokenizer.json")
            .standardized
        try FileManager.default.copyItem(
            at: tokenizer, to: model.appendingPathComponent("tokenizer.json"))
        let configuration = GPT2Configuration {
            $0.vocabularySize = 800
            $0.maximumPositions = 64
            $0.embeddingSize = 16
            $0.layerCount = 1
            $0.headCount = 2
            $0.eosTokenID = nil
            $0.initializerRange = 0.3
        }
        try GPT2LMHeadModel(configuration: configuration, seed: 1).save(to: model)
        let peft = try PEFTModel(
            GPT2LMHeadModel(configuration: configuration, seed: 1),
            configuration: LoRAConfiguration {
                $0.initialization = .random
                $0.alpha = 32
            }, adapterName: "first")
        try peft.addAdapter(
            "second",
            configuration: LoRAConfiguration {
                $0.initialization = .random
                $0.useDoRA = true
                $0.rank = 4
                $0.alpha = 32
            })
        try peft.save(to: root.appendingPathComponent("adapters"))
        let adapters = root.appendingPathComponent("adapters")
        return (
            model, adapters.appendingPathComponent("first"),
            adapters.appendingPathComponent("second")
        )
    }

    @Test("Each prompt line is served by its own adapter, as a single-adapter run serves it")
    func servesSeveralAdapters() throws {
        let (model, first, second) = try folders()
        let prompts = model.deletingLastPathComponent().appendingPathComponent("prompts.jsonl")
        let lines = [
            #"{"prompt": "Hello", "adapter": "second"}"#,
            #"{"prompt": "Hello", "adapter": "first"}"#,
            #"{"prompt": "Hello", "adapter": "__base__"}"#,
            #"{"prompt": "A longer prompt here"}"#,
        ]
        try (lines.joined(separator: "\n") + "\n").write(
            to: prompts, atomically: true, encoding: .utf8)
        let run = try PEFTProcess([
            "generate", "--model", model.path, "--adapter", "first=\(first.path)", "--adapter",
            "second=\(second.path)", "--prompts", prompts.path, "--max-tokens", "5", "--json",
        ])
        #expect(run.status == 0, "\(run.standardError)")
        let served = try run.standardOutput.split(separator: "\n").map { line in
            try #require(
                try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
        #expect(
            served.map { $0["adapter"] as? String } == ["second", "first", "__base__", "first"])
        func single(_ prompt: String, _ adapter: URL?) throws -> [Int] {
            let run = try PEFTProcess(
                [
                    "generate", "--model", model.path, "--prompt", prompt, "--max-tokens", "5",
                    "--json",
                ]
                    + (adapter.map { ["--adapter", $0.path] } ?? []))
            #expect(run.status == 0, "\(run.standardError)")
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8))
                    as? [String: Any])
            return try #require(object["generated_ids"] as? [Int])
        }
        let expected = [
            try single("Hello", second), try single("Hello", first), try single("Hello", nil),
            try single("A longer prompt here", first),
        ]
        #expect(served.map { $0["generated_ids"] as? [Int] ?? [] } == expected)
        // The adapters change the continuation, so the comparison is not vacuous.
        #expect(Set(expected.prefix(3)).count == 3)
    }

    @Test("An unknown adapter name on a line, and --prompt with --prompts, are refused")
    func refusals() throws {
        let (model, first, _) = try folders()
        let prompts = model.deletingLastPathComponent().appendingPathComponent("bad.jsonl")
        try #"{"prompt": "Hi", "adapter": "missing"}"#.write(
            to: prompts, atomically: true, encoding: .utf8)
        let run = try PEFTProcess([
            "generate", "--model", model.path, "--adapter", "first=\(first.path)", "--prompts",
            prompts.path,
        ])
        #expect(run.status != 0)
        #expect(run.standardError.contains("unknown adapter 'missing'"))
        let both = try PEFTProcess([
            "generate", "--model", model.path, "--prompt", "Hi", "--prompts", prompts.path,
        ])
        #expect(both.status != 0 && both.standardError.contains("exactly one"))
    }
}
