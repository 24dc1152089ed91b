import PEFTModels
import Testing

/// Generation requests a caller can get wrong at run time throw ``GenerationError``, never trap.
@Suite("Generation errors")
struct GenerationErrorTests {
    /// A two-layer GPT-2 with 8 positions.
    static func shortGPT2() -> GPT2LMHeadModel {
        let model = GPT2LMHeadModel(
            configuration: GPT2Configuration {
                $0.vocabularySize = 16
                $0.maximumPositions = 8
                $0.embeddingSize = 8
                $0.layerCount = 2
                $0.headCount = 2
            }, seed: 4)
        model.eval()
        return model
    }

    @Test("A prompt longer than n_positions throws, naming its length and the limit")
    func promptTooLong() throws {
        let model = Self.shortGPT2()
        let prompt = Array(repeating: 3, count: 9)
        #expect(throws: GenerationError.promptTooLong(length: 9, limit: 8)) {
            try model.generate(prompt: prompt)
        }
        var uncached = GenerationOptions(maximumNewTokens: 4)
        uncached.usesCache = false
        #expect(throws: GenerationError.promptTooLong(length: 9, limit: 8)) {
            try model.generate(prompt: prompt, options: uncached)
        }
        #expect(throws: GenerationError.promptTooLong(length: 9, limit: 8)) {
            try model.generate(prompts: [prompt, prompt])
        }
        #expect(
            "\(GenerationError.promptTooLong(length: 9, limit: 8))"
                == "the prompt is 9 tokens, over the 8 positions the model has")
    }

    @Test("A prompt that fills every position gets one token, then generation stops")
    func promptFillsPositions() throws {
        let model = Self.shortGPT2()
        var options = GenerationOptions(maximumNewTokens: 5)
        options.stopTokenIDs = []
        let tokens = try model.generate(prompt: Array(repeating: 3, count: 8), options: options)
        #expect(tokens.count == 1)
        let shorter = try model.generate(prompt: Array(repeating: 3, count: 6), options: options)
        #expect(shorter.count == 3)
    }

    @Test("Empty prompts, no prompts and unequal batch lengths throw")
    func malformedPrompts() throws {
        let model = Self.shortGPT2()
        #expect(throws: GenerationError.emptyPrompt(index: 0)) { try model.generate(prompt: []) }
        #expect(throws: GenerationError.noPrompts) { try model.generate(prompts: []) }
        #expect(throws: GenerationError.emptyPrompt(index: 1)) {
            try model.generate(prompts: [[1], []])
        }
        #expect(throws: GenerationError.unequalPromptLengths(first: 2, other: 3, index: 1)) {
            try model.generate(prompts: [[1, 2], [1, 2, 3]])
        }
    }
}
