import Foundation
import PEFTModels
import PEFTNN
import PEFTTensor
import PEFTTestSupport
import Testing

@Suite("Generation")
struct GenerationTests {
    /// The `generation` entry of a model fixture: prompt, settings and transformers' new tokens.
    struct Reference {
        let inputIDs: [Int]
        let newTokens: [Int]
        let minimumNewTokens: Int

        init(_ name: String) throws {
            let generation = try ParityFixture(name).object["generation"] as! [String: Any]
            inputIDs = (generation["input_ids"] as! [[Int]])[0]
            newTokens = (generation["new_tokens"] as! [[Int]])[0]
            minimumNewTokens = generation["min_new_tokens"] as! Int
        }

        var options: GenerationOptions {
            var options = GenerationOptions(maximumNewTokens: newTokens.count)
            options.minimumNewTokens = minimumNewTokens
            return options
        }
    }

    @Test("Greedy GPT-2 generation gives transformers' tokens, with and without the cache")
    func gpt2Greedy() throws {
        let model = try GPT2LMHeadModel(contentsOf: ParityFixture.folder("gpt2-tiny"))
        model.eval()
        let reference = try Reference("gpt2-tiny")
        var options = reference.options
        #expect(
            try model.generate(prompt: reference.inputIDs, options: options) == reference.newTokens)
        options.usesCache = false
        #expect(
            try model.generate(prompt: reference.inputIDs, options: options) == reference.newTokens)
    }

    @Test(
        "Greedy T5 generation gives transformers' tokens, with and without the cache",
        arguments: ["t5-v1_0-tiny", "t5-v1_1-tiny"])
    func t5Greedy(name: String) throws {
        let model = try T5ForConditionalGeneration(contentsOf: ParityFixture.folder(name))
        model.eval()
        let reference = try Reference(name)
        var options = reference.options
        let input = DecoderInputs(tokenIDs: [reference.inputIDs])
        #expect(model.generate(input: input, options: options) == reference.newTokens)
        options.usesCache = false
        #expect(model.generate(input: input, options: options) == reference.newTokens)
    }

    @Test("Incremental decoding with the cache gives the same logits as recomputing everything")
    func cachedLogitsMatchFull() throws {
        let model = try GPT2LMHeadModel(contentsOf: ParityFixture.folder("gpt2-tiny"))
        model.eval()
        let tokens = [[5, 17, 42, 8, 3, 60]]
        let full = model(tokens)
        let cache = model.makeCache()
        let first = model(DecoderInputs(tokenIDs: [Array(tokens[0][0..<4])], cache: cache))
        let second = model(DecoderInputs(tokenIDs: [Array(tokens[0][4...])], cache: cache))
        expectClose(concatenate([first, second], alongAxis: 1), full, tolerance: 1e-5)

        let t5 = try T5ForConditionalGeneration(contentsOf: ParityFixture.folder("t5-v1_1-tiny"))
        t5.eval()
        let encoded = t5.encode(DecoderInputs(tokenIDs: [[4, 9, 13, 2, 1]]))
        let target = [0, 7, 21, 30]
        let fullT5 = t5.decode(
            DecoderInputs(tokenIDs: [target]), encoderOutput: encoded, encoderMask: nil)
        let t5Cache = t5.makeCache()
        let steps = target.map {
            t5.decode(
                DecoderInputs(tokenIDs: [[$0]], cache: t5Cache), encoderOutput: encoded,
                encoderMask: nil)
        }
        expectClose(concatenate(steps, alongAxis: 1), fullT5, tolerance: 1e-5)
    }

    @Test("Sampling is seeded, respects top-k and stops at the stop token")
    func sampling() throws {
        let model = try GPT2LMHeadModel(contentsOf: ParityFixture.folder("gpt2-tiny"))
        model.eval()
        var options = GenerationOptions(maximumNewTokens: 12)
        options.temperature = 1.5
        options.topK = 5
        options.seed = 3
        options.stopTokenIDs = []
        let first = try model.generate(prompt: [1, 2, 3], options: options)
        #expect(try first == model.generate(prompt: [1, 2, 3], options: options))
        #expect(first.count == 12)
        options.usesCache = false
        #expect(try first == model.generate(prompt: [1, 2, 3], options: options))
        options.seed = 4
        options.usesCache = true
        #expect(try first != model.generate(prompt: [1, 2, 3], options: options))
        // Top-1 sampling is greedy.
        options.topK = 1
        var greedy = GenerationOptions(maximumNewTokens: 12)
        greedy.stopTokenIDs = []
        #expect(
            try model.generate(prompt: [1, 2, 3], options: options)
                == model.generate(prompt: [1, 2, 3], options: greedy))
        // A stop token ends generation and is returned.
        options.stopTokenIDs = [first[2]]
        options.topK = 5
        options.seed = 3
        let stopped = try model.generate(prompt: [1, 2, 3], options: options)
        #expect(stopped.last == first[2] && stopped.count <= 3)
    }
}
