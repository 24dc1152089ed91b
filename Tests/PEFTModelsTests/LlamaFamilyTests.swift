import Foundation
import PEFTModels
import PEFTNN
import PEFTTensor
import PEFTTestSupport
import Testing

@Suite("Llama family description and training")
struct LlamaFamilyTests {
    /// A tiny random Qwen3-shaped model: grouped heads, q/k norms, head_dim ≠ C / H, a window of 2.
    func tinyModel(attentionDropout: Float = 0, seed: UInt64 = 3) -> LlamaForCausalLM {
        let configuration = LlamaConfiguration {
            $0.modelType = "qwen3"
            $0.vocabularySize = 11
            $0.hiddenSize = 8
            $0.intermediateSize = 12
            $0.layerCount = 2
            $0.headCount = 4
            $0.keyValueHeads = 2
            $0.explicitHeadDimension = 4
            $0.maximumPositions = 16
            $0.initializerRange = 0.5
            $0.attentionDropout = attentionDropout
            $0.slidingWindow = 2
            $0.layerTypes = ["sliding_attention", "full_attention"]
        }
        return LlamaForCausalLM(configuration: configuration, seed: seed)
    }

    @Test("Default targets, block layout and output head are Hugging Face PEFT's")
    func familyDescription() throws {
        let llama = try LlamaForCausalLM(contentsOf: ParityFixture.folder("llama-tiny"))
        #expect(llama.modelType == "llama" && llama.architecture == .causal)
        #expect(llama.defaultTargetModules(for: "LORA") == ["q_proj", "v_proj"])
        #expect(llama.defaultTargetModules(for: "IA3") == ["k_proj", "v_proj", "down_proj"])
        #expect(llama.defaultFeedForwardModules(for: "IA3") == ["down_proj"])
        #expect(llama.outputHeadPaths == ["lm_head"])
        #expect(llama.blockLayout.attentionOutput == ["self_attn.o_proj"])
        #expect(llama.blockLayout.feedForwardOutput == ["mlp.down_proj"])
        #expect(llama.blockLayout.feedForward == ["mlp"])
        let qwen2 = try LlamaForCausalLM(contentsOf: ParityFixture.folder("qwen2-tiny"))
        // PEFT's IA3 table scales q_proj for Qwen where it scales k_proj for Llama and Mistral.
        #expect(qwen2.defaultTargetModules(for: "IA3") == ["q_proj", "v_proj", "down_proj"])
        #expect(qwen2.outputHeadPaths.isEmpty)
        #expect(qwen2.wordEmbeddingTable.shape == [64, 16])
        let paths = Set(llama.namedModules().map(\.path))
        for module in llama.blockLayout.attentionOutput + llama.blockLayout.feedForwardOutput {
            #expect(paths.contains("model.layers.0.\(module)"))
        }
    }

    @Test(
        "Prefix tuning is sized by the key/value heads, as PEFT sizes it under grouped-query attention"
    )
    func prefixLayout() throws {
        let qwen3 = try LlamaForCausalLM(contentsOf: ParityFixture.folder("qwen3-tiny"))
        let layout = qwen3.attentionLayout
        // peft: token_dim = head_dim · num_key_value_heads = 8 · 2, a table [P, layers · 2 · 16].
        #expect(
            layout.keyValueHeads == 2 && layout.headDimension == 8 && layout.keyValueWidth == 16)
        let (count, width) = (3, layout.keyValueWidth)
        let table = Tensor(
            shape: [count, layout.prefixLayers * 2 * width],
            scalars: (0..<count * layout.prefixLayers * 2 * width).map(Float.init))
        let prefixes = qwen3.attentionPrefixes(fromPrefixTable: table)
        #expect(prefixes.count == 2 && prefixes[1].key.shape == [1, count, width])
        // Layer 1 takes block 2 as keys and block 3 as values.
        let row = layout.prefixLayers * 2 * width
        #expect(prefixes[1].key.scalars[0] == Float(2 * width))
        #expect(prefixes[1].value.scalars[width] == Float(row + 3 * width))
        let logits = qwen3(
            DecoderInputs(
                tokenIDs: [[4, 5, 6]],
                prefixes: prefixes.map {
                    AttentionPrefix(key: $0.key * 0.01, value: $0.value * 0.01)
                }))
        #expect(logits.shape == [1, 3, 64])
    }

    @Test("Generation with a prefix gives the same tokens with and without the cache")
    func prefixGeneration() throws {
        let model = tinyModel()
        model.eval()
        let prefixes = (0..<2).map { layer in
            AttentionPrefix(
                key: randomTensor([1, 2, 8], seed: UInt64(10 + layer)),
                value: randomTensor([1, 2, 8], seed: UInt64(20 + layer)))
        }
        var options = GenerationOptions(maximumNewTokens: 6)
        options.stopTokenIDs = []
        let cached = try model.generate(prompt: [1, 2, 3], options: options, prefixes: prefixes)
        options.usesCache = false
        #expect(
            try model.generate(prompt: [1, 2, 3], options: options, prefixes: prefixes) == cached)
    }

    @Test("Gradients through the whole decoder match finite differences")
    func gradients() {
        // Right padding: no query row is masked everywhere, where a softmax of equal masked scores is
        // flat in float arithmetic but not in its analytic gradient.
        let model = tinyModel()
        expectGradientsMatchFiniteDifferences(
            [randomTensor([2, 3, 8], seed: 5)], step: 2e-3, tolerance: 3e-3
        ) { inputs in
            model(DecoderInputs(embeddings: inputs[0], attentionMask: [[1, 1, 1], [1, 1, 0]]))
        }
    }

    @Test("Parameters receive gradients, and attention dropout acts only while training")
    func training() {
        let model = tinyModel(attentionDropout: 0.5)
        let tokens = [[1, 2, 3, 4, 5]]
        model.train()
        let first = model(tokens)
        #expect(first.scalars != model(tokens).scalars)
        causalLanguageModelingLoss(logits: first, labels: tokens).backward()
        for (path, parameter) in model.namedParameters() {
            #expect(parameter.value.gradient != nil, "\(path) has no gradient")
        }
        model.eval()
        #expect(model(tokens).scalars == model(tokens).scalars)
        model.train()
        model.reseedDropouts(seed: 9)
        let replay = model(tokens).scalars
        model.reseedDropouts(seed: 9)
        #expect(model(tokens).scalars == replay)
    }
}
