import Foundation
import PEFTTestSupport
import Testing

@testable import PEFT

/// Adapters loaded onto a model they were not made for, and prompts too long once virtual tokens
/// take their positions: each throws a typed error rather than trapping.
@Suite("Mismatched adapters and prompts")
struct MismatchedAdapterTests {
    @Test("An adapter made for a deeper GPT-2 throws on a shallower one, naming the keys")
    func otherDepth() throws {
        let folder = try temporaryDirectory()
        let deeper = GPT2LMHeadModel(
            configuration: GPT2Configuration {
                $0.vocabularySize = 32
                $0.maximumPositions = 16
                $0.embeddingSize = 16
                $0.layerCount = 3
                $0.headCount = 2
            }, seed: 2)
        try deeper.applyLoRA(rank: 4).save(to: folder)
        let error = try #require(throws: AdapterError.self) {
            try PEFTModel.load(tinyGPT2(), from: folder)
        }
        #expect("\(error)".contains("h.2"), "\(error)")
    }

    @Test("A GPT-2 adapter throws on a T5, and a T5 adapter on a GPT-2")
    func otherFamily() throws {
        let gpt2Folder = try temporaryDirectory()
        try tinyGPT2().applyLoRA(rank: 4).save(to: gpt2Folder)
        #expect(throws: AdapterError.self) { try PEFTModel.load(tinyT5(), from: gpt2Folder) }

        let t5Folder = try temporaryDirectory()
        try tinyT5().applyLoRA(rank: 4).save(to: t5Folder)
        #expect(throws: AdapterError.self) { try PEFTModel.load(tinyGPT2(), from: t5Folder) }
    }

    @Test("Prompt tuning's virtual tokens count against the positions generation checks")
    func virtualTokensTakePositions() throws {
        // tinyGPT2 has 16 positions; 6 virtual tokens leave 10 for the prompt.
        let peft = try PEFTModel(
            tinyGPT2(),
            configuration: PromptTuningConfiguration(virtualTokens: 6))
        #expect(peft.maximumLength == 10)
        #expect(throws: GenerationError.promptTooLong(length: 11, limit: 10)) {
            try peft.generate(prompt: Array(repeating: 1, count: 11))
        }
        var options = GenerationOptions(maximumNewTokens: 3)
        options.stopTokenIDs = []
        #expect(
            try peft.generate(prompt: Array(repeating: 1, count: 10), options: options).count == 1)
    }
}
