import Foundation
import PEFTTestSupport
import Testing

@testable import PEFT

/// A tiny T5 with random weights.
func tinyT5(seed: UInt64 = 1) -> T5ForConditionalGeneration {
    let model = T5ForConditionalGeneration(
        configuration: T5Configuration {
            $0.vocabularySize = 32
            $0.modelSize = 16
            $0.headSize = 4
            $0.headCount = 4
            $0.feedForwardSize = 32
            $0.encoderLayerCount = 2
            $0.decoderLayerCount = 2
            $0.relativeAttentionBucketCount = 8
            $0.relativeAttentionMaximumDistance = 16
            $0.dropoutRate = 0
        }, seed: seed)
    model.eval()
    return model
}

/// Every prompt-learning configuration the tests run over.
enum PromptMethodCase: String, CaseIterable, Sendable {
    case promptTuning, pTuningMLP, pTuningLSTM, prefix, prefixProjection

    var configuration: any PEFTConfiguration {
        switch self {
        case .promptTuning: PromptTuningConfiguration(virtualTokens: 4)
        case .pTuningMLP:
            PTuningConfiguration(virtualTokens: 4, encoderType: .mlp, encoderHiddenSize: 8)
        case .pTuningLSTM:
            PTuningConfiguration(virtualTokens: 4, encoderType: .lstm, encoderHiddenSize: 8)
        case .prefix: PrefixTuningConfiguration(virtualTokens: 4)
        case .prefixProjection:
            PrefixTuningConfiguration(virtualTokens: 4, usesProjection: true, encoderHiddenSize: 8)
        }
    }
}

@Suite("Prompt learning")
struct PromptLearningTests {
    @Test(
        "Training lowers the loss and leaves every model weight bit-identical",
        arguments: PromptMethodCase.allCases)
    func trainingDecoder(method: PromptMethodCase) throws {
        let model = tinyGPT2()
        let before = model.namedParameters().map { $0.parameter.value.scalars }
        let peft = try PEFTModel(model, configuration: method.configuration)
        #expect(!peft.trainableParameters.isEmpty)
        #expect(model.trainableParameters.isEmpty)
        peft.train()
        let optimizer = AdamW(peft.trainableParameters, learningRate: 3e-2, weightDecay: 0)
        var losses: [Float] = []
        for _ in 0..<25 {
            let loss = causalLanguageModelingLoss(logits: peft(sampleTokens), labels: sampleTokens)
            losses.append(loss.scalar)
            loss.backward()
            optimizer.step()
            optimizer.zeroGradients()
        }
        #expect(losses.last! < losses.first! * 0.9, "\(method): \(losses.first!) → \(losses.last!)")
        #expect(model.namedParameters().map { $0.parameter.value.scalars } == before)
    }

    @Test(
        "Training on T5 lowers the loss and leaves the model unchanged",
        arguments: [PromptMethodCase.promptTuning, .pTuningMLP, .prefix])
    func trainingEncoderDecoder(method: PromptMethodCase) throws {
        let model = tinyT5()
        let before = model.namedParameters().map { $0.parameter.value.scalars }
        let peft = try PEFTModel(model, configuration: method.configuration)
        peft.train()
        let optimizer = AdamW(peft.trainableParameters, learningRate: 3e-2, weightDecay: 0)
        let inputs = [[3, 8, 12, 5, 1], [7, 7, 2, 9, 1]]
        let decoderInputs = [[0, 4, 9, 11], [0, 6, 6, 3]]
        let targets = [4, 9, 11, 1, 6, 6, 3, 1]
        var losses: [Float] = []
        for _ in 0..<40 {
            let loss = crossEntropy(
                logits: peft(inputIDs: inputs, decoderInputIDs: decoderInputs), targets: targets)
            losses.append(loss.scalar)
            loss.backward()
            optimizer.step()
            optimizer.zeroGradients()
        }
        #expect(losses.last! < losses.first! * 0.9, "\(method): \(losses.first!) → \(losses.last!)")
        #expect(model.namedParameters().map { $0.parameter.value.scalars } == before)
    }

    @Test(
        "Generation with virtual tokens or prefixes is the same with and without the cache",
        arguments: PromptMethodCase.allCases)
    func cachedGeneration(method: PromptMethodCase) throws {
        let model = tinyGPT2()
        let peft = try PEFTModel(model, configuration: method.configuration)
        peft.eval()
        var options = GenerationOptions(maximumNewTokens: 6)
        options.stopTokenIDs = []
        let cached = try peft.generate(prompt: [1, 5, 9], options: options)
        options.usesCache = false
        #expect(try peft.generate(prompt: [1, 5, 9], options: options) == cached)
        #expect(try cached != model.generate(prompt: [1, 5, 9], options: options))

        let t5 = tinyT5()
        let t5Peft = try PEFTModel(t5, configuration: method.configuration)
        t5Peft.eval()
        var t5Options = GenerationOptions(maximumNewTokens: 5)
        t5Options.stopTokenIDs = []
        let input = DecoderInputs(tokenIDs: [[3, 8, 12, 5, 1]])
        let t5Cached = t5Peft.generate(input: input, options: t5Options)
        t5Options.usesCache = false
        #expect(t5Peft.generate(input: input, options: t5Options) == t5Cached)
    }

    @Test(
        "A saved prompt encoder resumes training exactly where it stopped",
        arguments: [PromptMethodCase.pTuningMLP, .pTuningLSTM, .prefixProjection])
    func resume(method: PromptMethodCase) throws {
        func train(_ peft: PEFTModel<GPT2LMHeadModel>, _ optimizer: AdamW, steps: Int) {
            for _ in 0..<steps {
                causalLanguageModelingLoss(logits: peft(sampleTokens), labels: sampleTokens)
                    .backward()
                optimizer.step()
                optimizer.zeroGradients()
            }
        }
        let straight = try PEFTModel(tinyGPT2(), configuration: method.configuration)
        let straightOptimizer = AdamW(straight.trainableParameters, learningRate: 1e-2)
        train(straight, straightOptimizer, steps: 6)

        let first = try PEFTModel(tinyGPT2(), configuration: method.configuration)
        let firstOptimizer = AdamW(first.trainableParameters, learningRate: 1e-2)
        train(first, firstOptimizer, steps: 3)
        let folder = try temporaryDirectory()
        try first.save(to: folder)
        let names = first.promptEncoders["default"]!.namedParameters().map(\.path)
        try firstOptimizer.saveState(
            to: folder.appendingPathComponent("optimizer.safetensors"), parameterNames: names)
        #expect(
            FileManager.default.fileExists(
                atPath: folder.appendingPathComponent("prompt_encoder.safetensors").path))

        let resumed = try PEFTModel.load(tinyGPT2(), from: folder, isTrainable: true)
        #expect(resumed.promptEncoders["default"]!.hasTrainingState)
        let resumedOptimizer = AdamW(resumed.trainableParameters, learningRate: 1e-2)
        try resumedOptimizer.loadState(
            from: folder.appendingPathComponent("optimizer.safetensors"), parameterNames: names)
        train(resumed, resumedOptimizer, steps: 3)
        #expect(
            resumed.promptEncoders["default"]!().scalars
                == straight.promptEncoders["default"]!().scalars)

        // Python's view: a plain table of the final values, with the same outputs.
        let inference = try PEFTModel.load(tinyGPT2(), from: folder)
        #expect(!inference.promptEncoders["default"]!.hasTrainingState)
        expectClose(inference(sampleTokens), first(sampleTokens), tolerance: 1e-5)
    }

    @Test("TEXT and SAMPLE_VOCAB start from word embeddings; T5 tables carry two blocks of rows")
    func initialization() throws {
        let model = tinyGPT2()
        let text = try PEFTModel(
            model,
            configuration: PromptTuningConfiguration(
                virtualTokens: 5, initialization: .text("hi", tokenIDs: [3, 7])))
        let table = text.promptEncoders["default"]!().scalars
        let words = model.transformer.tokenEmbedding.weight.scalars
        let width = 16
        for (row, id) in [3, 7, 3, 7, 3].enumerated() {
            #expect(
                Array(table[row * width..<(row + 1) * width])
                    == Array(words[id * width..<(id + 1) * width]))
        }
        let t5 = try PEFTModel(
            tinyT5(),
            configuration: PromptTuningConfiguration(
                virtualTokens: 5, initialization: .sampleVocabulary))
        #expect(t5.promptEncoders["default"]!().shape == [10, 16])
        #expect(t5.configurations["default"]!.taskType == "SEQ_2_SEQ_LM")
        #expect(throws: AdapterError.self) {
            try PEFTModel(
                tinyGPT2(),
                configuration: PromptTuningConfiguration(
                    virtualTokens: 2, initialization: .text("x", tokenIDs: [999])))
        }
    }

    @Test("Mixing methods in one model is refused")
    func mixingRefused() throws {
        let peft = try tinyGPT2().applyLoRA(rank: 2)
        #expect(throws: AdapterError.self) {
            try peft.addAdapter("prompt", configuration: PromptTuningConfiguration())
        }
    }
}
