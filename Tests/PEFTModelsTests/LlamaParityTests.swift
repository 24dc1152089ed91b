import Foundation
import PEFTModels
import PEFTNN
import PEFTTensor
import PEFTTestSupport
import Testing

/// The Llama-family fixtures: one small random model per `model_type` and variant.
let llamaFixtures = [
    "llama-tiny", "llama3-rope-tiny", "mistral-tiny", "qwen2-tiny", "qwen3-tiny",
]

@Suite("Llama-family parity with transformers")
struct LlamaParityTests {
    @Test(
        "Logits and loss match transformers, with right and left padding",
        arguments: llamaFixtures)
    func logits(name: String) throws {
        let model = try LlamaForCausalLM(contentsOf: ParityFixture.folder(name))
        model.eval()
        let fixture = try ParityFixture(name)
        #expect(fixture.cases.map(\.name) == ["no_padding", "right_padding", "left_padding"])
        for parity in fixture.cases {
            let logits = model(parity.inputIDs, attentionMask: parity.attentionMask)
            #expect(logits.shape == parity.logitsShape)
            let difference = maxDifferenceOverValidPositions(logits.scalars, parity)
            #expect(difference <= 1e-4, "\(name) \(parity.name): max |Δ| \(difference)")
            if let labels = parity.labels, let loss = parity.loss {
                let ours = causalLanguageModelingLoss(logits: logits, labels: labels).scalar
                #expect(abs(ours - loss) <= 1e-4, "\(name) \(parity.name): loss \(ours) vs \(loss)")
            }
        }
    }

    @Test(
        "Greedy generation gives transformers' tokens, with and without the cache",
        arguments: llamaFixtures)
    func greedy(name: String) throws {
        let model = try LlamaForCausalLM(contentsOf: ParityFixture.folder(name))
        model.eval()
        let generation = try ParityFixture(name).object["generation"] as! [String: Any]
        let prompt = (generation["input_ids"] as! [[Int]])[0]
        let expected = (generation["new_tokens"] as! [[Int]])[0]
        var options = GenerationOptions(maximumNewTokens: expected.count)
        options.minimumNewTokens = generation["min_new_tokens"] as! Int
        #expect(Set(generation["eos_token_id"] as! [Int]) == model.endOfSequenceTokenIDs)
        #expect(try model.generate(prompt: prompt, options: options) == expected)
        options.usesCache = false
        #expect(try model.generate(prompt: prompt, options: options) == expected)
    }

    @Test("Each fixture exercises the variant it is named for")
    func variants() throws {
        func load(_ name: String) throws -> LlamaForCausalLM {
            try LlamaForCausalLM(contentsOf: ParityFixture.folder(name))
        }
        let llama = try load("llama-tiny")
        #expect(llama.outputHead != nil && llama.configuration.keyValueHeadCount == 2)
        #expect(llama.namedParameters().map(\.path).contains("model.layers.1.mlp.down_proj.bias"))
        let llama3 = try load("llama3-rope-tiny")
        #expect(llama3.outputHead == nil && llama3.configuration.rope.type == "llama3")
        #expect(llama3.endOfSequenceTokenIDs == [62, 63])
        let mistral = try load("mistral-tiny")
        #expect(mistral.configuration.slidingWindow == 3)
        #expect(
            mistral.configuration.rope.type == "linear" && mistral.configuration.rope.theta == 1000)
        #expect(mistral.configuration.rope.sourceKey == "rope_scaling")
        let qwen2 = try load("qwen2-tiny")
        let qwen2Paths = qwen2.namedParameters().map(\.path)
        #expect(qwen2Paths.contains("model.layers.0.self_attn.k_proj.bias"))
        #expect(!qwen2Paths.contains("model.layers.0.self_attn.o_proj.bias"))
        #expect(qwen2.outputHead == nil && qwen2.configuration.slidingWindow == nil)
        let qwen3 = try load("qwen3-tiny")
        #expect(qwen3.configuration.headDimension == 8 && qwen3.configuration.hiddenSize == 16)
        #expect(
            qwen3.namedParameters().map(\.path).contains("model.layers.0.self_attn.q_norm.weight"))
    }

    @Test("Incremental decoding with the cache gives the logits of recomputing everything")
    func cachedLogitsMatchFull() throws {
        for name in ["mistral-tiny", "qwen3-tiny"] {
            let model = try LlamaForCausalLM(contentsOf: ParityFixture.folder(name))
            model.eval()
            let tokens = [[5, 17, 42, 8, 3, 60, 11]]
            let full = model(tokens)
            let cache = model.makeCache()
            let first = model(DecoderInputs(tokenIDs: [Array(tokens[0][0..<4])], cache: cache))
            let second = model(DecoderInputs(tokenIDs: [[tokens[0][4]]], cache: cache))
            let third = model(DecoderInputs(tokenIDs: [Array(tokens[0][5...])], cache: cache))
            expectClose(concatenate([first, second, third], alongAxis: 1), full, tolerance: 1e-5)
        }
    }

    @Test("Generation stops at any eos_token_id of a list, not only the first")
    func everyEndOfSequenceStops() throws {
        func model(eos: [Int]) -> LlamaForCausalLM {
            let model = LlamaForCausalLM(
                configuration: LlamaConfiguration {
                    $0.vocabularySize = 40
                    $0.hiddenSize = 16
                    $0.intermediateSize = 32
                    $0.layerCount = 1
                    $0.headCount = 2
                    $0.maximumPositions = 32
                    $0.initializerRange = 0.5
                    $0.eosTokenIDs = eos
                }, seed: 4)
            model.eval()
            return model
        }
        var unstopped = GenerationOptions(maximumNewTokens: 6)
        unstopped.stopTokenIDs = []
        let free = try model(eos: [39]).generate(prompt: [1, 2, 3], options: unstopped)
        let stopAt = free[2]
        let firstIndex = free.firstIndex(of: stopAt)!
        // The second id of the list is a token the model generates: it must end the generation.
        let stopped = try model(eos: [39, stopAt]).generate(
            prompt: [1, 2, 3], options: GenerationOptions(maximumNewTokens: 6))
        #expect(stopped == Array(free.prefix(firstIndex + 1)), "free \(free), stopped \(stopped)")
    }
}
