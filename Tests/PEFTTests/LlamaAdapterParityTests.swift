import Foundation
import PEFT
import PEFTTestSupport
import Testing

/// Loads a Llama-family fixture base and runs it; `LoadedModel` knows only GPT-2 and T5.
enum LlamaFixtures {
    /// The base model of fixture `name` (`llama-tiny`, `qwen2-tiny`, ...), in evaluation mode.
    static func load(_ name: String) throws -> LlamaForCausalLM {
        let model = try LlamaForCausalLM(contentsOf: ParityFixture.folder(name))
        model.eval()
        return model
    }

    /// The logits of `model` (a bare base or a PEFT container around one) for a parity case.
    static func logits(_ model: some CausalLanguageModel, _ parity: ParityCase) -> Tensor {
        withoutGradients {
            model.logits(
                DecoderInputs(tokenIDs: parity.inputIDs, attentionMask: parity.attentionMask))
        }
    }
}

@Suite("Llama-family adapter parity with Python peft")
struct LlamaAdapterParityTests {
    /// Weight-space adapters: the base's own forward pass runs them.
    static let layerAdapters = [
        "lora-llama-all-linear", "lora-qwen2-dora", "lora-qwen3-rslora", "lora-mistral-dora",
        "ia3-llama", "ia3-qwen2", "ia3-mistral",
    ]

    /// Prompt-learning adapters: the container changes the inputs or the keys and values.
    static let promptAdapters = [
        "prefix-tuning-llama", "prefix-tuning-qwen3", "prefix-tuning-qwen2-projection",
        "prompt-tuning-llama", "prompt-tuning-qwen2", "p-tuning-qwen3",
    ]

    @Test("A PEFT-written LoRA or IA3 adapter gives PEFT's logits", arguments: layerAdapters)
    func layerAdapterLogits(name: String) throws {
        let fixture = try ParityFixture(name)
        let model = try LlamaFixtures.load(fixture.object["base_model"] as! String)
        let before = LlamaFixtures.logits(model, fixture.cases[0])
        let peft = try PEFTModel.load(model, from: ParityFixture.folder(name))
        #expect(peft.trainableParameters.isEmpty)
        for parity in fixture.cases {
            let logits = LlamaFixtures.logits(model, parity)
            #expect(logits.shape == parity.logitsShape)
            let difference = maxDifferenceOverValidPositions(logits.scalars, parity)
            #expect(difference <= 1e-4, "\(name) \(parity.name): max |Δ| \(difference)")
        }
        // A silently ignored adapter would pass the loop on a base that happened to agree.
        #expect(maxDifferenceOverValidPositions(before.scalars, fixture.cases[0]) > 1e-2)
    }

    @Test(
        "A PEFT-written prompt-learning adapter gives PEFT's logits at the real positions",
        arguments: promptAdapters)
    func promptAdapterLogits(name: String) throws {
        let fixture = try ParityFixture(name)
        let model = try LlamaFixtures.load(fixture.object["base_model"] as! String)
        let peft = try PEFTModel.load(model, from: ParityFixture.folder(name))
        #expect(peft.trainableParameters.isEmpty)
        for parity in fixture.cases {
            let logits = LlamaFixtures.logits(peft, parity)
            #expect(logits.shape == parity.logitsShape)
            let difference = maxDifferenceOverValidPositions(logits.scalars, parity)
            #expect(difference <= 1e-4, "\(name) \(parity.name): max |Δ| \(difference)")
            let plain = LlamaFixtures.logits(model, parity)
            #expect(
                maxDifferenceOverValidPositions(plain.scalars, parity) > 1e-2,
                "the adapter changes nothing")
        }
    }

    @Test("all-linear leaves lm_head out, and the adapter config written here says so")
    func allLinearSkipsOutputHead() throws {
        let model = try LlamaFixtures.load("llama-tiny")
        let peft = try PEFTModel(
            model, configuration: LoRAConfiguration { $0.targets = .allLinear })
        let paths = Set(peft.adapterLayers().map(\.path))
        #expect(!paths.contains("lm_head"))
        #expect(paths.count == 2 * 7)
        // peft resolves `all-linear` to the module names it wrapped and writes those.
        let written = try jsonObject(
            ParityFixture.folder("lora-llama-all-linear").appendingPathComponent(
                "adapter_config.json"))
        #expect(Set(written["target_modules"] as! [String]) == paths)
    }

    @Test(
        "Prefix tuning under grouped-query attention writes PEFT's token_dim and num_attention_heads",
        arguments: ["prefix-tuning-llama", "prefix-tuning-qwen3"])
    func prefixSizedByKeyValueHeads(name: String) throws {
        let fixture = try ParityFixture(name)
        let model = try LlamaFixtures.load(fixture.object["base_model"] as! String)
        let peft = try PEFTModel(model, configuration: PrefixTuningConfiguration(virtualTokens: 5))
        let folder = try temporaryDirectory()
        try peft.save(to: folder)
        let ours = try jsonObject(folder.appendingPathComponent("adapter_config.json"))
        let peftWritten = try jsonObject(
            ParityFixture.folder(name).appendingPathComponent("adapter_config.json"))
        for key in ["token_dim", "num_attention_heads", "num_layers", "encoder_hidden_size"] {
            #expect(ours[key] as? Int == peftWritten[key] as? Int, "\(key)")
        }
        let saved = try SafeTensorsFile(
            contentsOf: folder.appendingPathComponent("adapter_model.safetensors"))
        #expect(
            saved.info("prompt_embeddings")?.shape
                == (fixture.object["adapter_tensors"] as! [String: [Int]])["prompt_embeddings"])
    }
}

/// The JSON object in `url`.
private func jsonObject(_ url: URL) throws -> [String: Any] {
    try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
}
