import Foundation
import PEFTTestSupport
import Testing

@testable import PEFT

/// Every parameter's bits by path, with the `.base_layer` segments an adapter wrapper adds taken
/// out, so a wrapped base weight is compared with itself before wrapping.
private func baseBits(_ model: Module) -> [String: [UInt32]] {
    Dictionary(
        uniqueKeysWithValues: model.namedParameters().map {
            (
                $0.path.replacingOccurrences(of: ".base_layer", with: ""),
                $0.parameter.value.scalars.map(\.bitPattern)
            )
        })
}

/// The language-modelling loss of `model` on the sample tokens.
private func sampleLoss(_ model: some CausalLanguageModel) -> Tensor {
    causalLanguageModelingLoss(
        logits: model.logits(DecoderInputs(tokenIDs: sampleTokens)), labels: sampleTokens)
}

/// Runs `steps` optimizer steps on the sample loss and returns the loss before each.
private func train(
    _ model: some CausalLanguageModel, with optimizer: any Optimizer, steps: Int
) -> [Float] {
    (0..<steps).map { _ in
        let loss = sampleLoss(model)
        loss.backward()
        optimizer.step()
        optimizer.zeroGradients()
        return loss.scalar
    }
}

/// A method and the Llama-family fixture it trains on.
struct LlamaMethodCase: Sendable, CustomStringConvertible {
    let method: String
    let baseModel: String
    let configuration: @Sendable () -> any PEFTConfiguration
    var description: String { "\(method) on \(baseModel)" }
}

@Suite("Every method trains on a Llama-family model")
struct LlamaMethodTrainingTests {
    static let cases: [LlamaMethodCase] = [
        LlamaMethodCase(method: "LoRA (default targets)", baseModel: "llama-tiny") {
            LoRAConfiguration { $0.rank = 4 }
        },
        LlamaMethodCase(method: "LoRA all-linear", baseModel: "qwen3-tiny") {
            LoRAConfiguration {
                $0.rank = 4
                $0.targets = .allLinear
            }
        },
        LlamaMethodCase(method: "DoRA", baseModel: "qwen2-tiny") {
            LoRAConfiguration {
                $0.rank = 4
                $0.targets = .allLinear
                $0.useDoRA = true
            }
        },
        LlamaMethodCase(method: "IA3", baseModel: "mistral-tiny") { IA3Configuration() },
        LlamaMethodCase(method: "IA3", baseModel: "qwen2-tiny") { IA3Configuration() },
        LlamaMethodCase(method: "prefix tuning", baseModel: "llama-tiny") {
            PrefixTuningConfiguration(virtualTokens: 4)
        },
        LlamaMethodCase(method: "prefix tuning with projection", baseModel: "qwen3-tiny") {
            PrefixTuningConfiguration(virtualTokens: 4, usesProjection: true, encoderHiddenSize: 8)
        },
        LlamaMethodCase(method: "prompt tuning", baseModel: "qwen2-tiny") {
            PromptTuningConfiguration(virtualTokens: 4)
        },
        LlamaMethodCase(method: "P-tuning (MLP)", baseModel: "llama-tiny") {
            PTuningConfiguration(virtualTokens: 4, encoderType: .mlp, encoderHiddenSize: 8)
        },
        LlamaMethodCase(method: "P-tuning (LSTM)", baseModel: "qwen3-tiny") {
            PTuningConfiguration(virtualTokens: 4, encoderType: .lstm, encoderHiddenSize: 8)
        },
        LlamaMethodCase(method: "Houlsby bottleneck adapters", baseModel: "llama-tiny") {
            BottleneckConfiguration(placement: .houlsby) {
                $0.reductionFactor = 4
                $0.layerNorm = true
            }
        },
        LlamaMethodCase(method: "parallel bottleneck adapters", baseModel: "qwen3-tiny") {
            BottleneckConfiguration(placement: .parallel) { $0.reductionFactor = 4 }
        },
    ]

    @Test("Training lowers the loss and keeps every base weight bit-identical", arguments: cases)
    func training(testCase: LlamaMethodCase) throws {
        let model = try LlamaFixtures.load(testCase.baseModel)
        let before = baseBits(model)
        let peft = try PEFTModel(model, configuration: testCase.configuration())
        #expect(!peft.trainableParameters.isEmpty)
        peft.train()
        let optimizer = AdamW(peft.trainableParameters, learningRate: 3e-2, weightDecay: 0)
        let losses = train(peft, with: optimizer, steps: 30)
        #expect(
            losses.last! < losses.first! * 0.9, "\(testCase): \(losses.first!) → \(losses.last!)")
        let after = baseBits(model)
        for (path, bits) in before {
            #expect(after[path] == bits, "\(testCase): \(path) changed")
        }
    }

    @Test("A sensitivity-ranked selection trains only the entries it chose")
    func rankedSelection() throws {
        let model = try LlamaFixtures.load("llama-tiny")
        let selection = try ParameterSelection.ranked(
            model: model, calibrationBatches: 2, criterion: .fisher, budget: .fraction(0.05)
        ) { batch in
            causalLanguageModelingLoss(
                logits: model([sampleTokens[batch]]), labels: [sampleTokens[batch]])
        }
        #expect(selection.selectedCount > 0)
        let base = try selection.snapshot(of: model)
        let before = baseBits(model)
        try selection.apply(to: model)
        let optimizer = try SparseAdamW(model, selection: selection, learningRate: 2e-2)
        let losses = train(model, with: optimizer, steps: 25)
        #expect(losses.last! < losses.first! * 0.9, "\(losses.first!) → \(losses.last!)")
        // Unselected entries keep their bits; selected ones moved.
        let selected = Dictionary(
            uniqueKeysWithValues: selection.parameters.map { ($0.path, Set($0.flatIndices)) })
        let after = baseBits(model)
        var moved = 0
        for (path, bits) in before {
            let now = try #require(after[path])
            for index in bits.indices where now[index] != bits[index] {
                #expect(selected[path]?.contains(index) == true, "\(path)[\(index)] changed")
                moved += 1
            }
        }
        #expect(moved > 0)
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        try selection.saveDelta(of: model, relativeTo: base, to: folder)
        let fresh = try LlamaFixtures.load("llama-tiny")
        _ = try ParameterSelection.loadDelta(from: folder, into: fresh)
        #expect(baseBits(fresh) == after)
    }

    @Test(
        "BitFit is refused, with the alternatives, on a model without biases",
        arguments: ["qwen3-tiny", "mistral-tiny"])
    func bitFitWithoutBiases(baseModel: String) throws {
        let model = try LlamaFixtures.load(baseModel)
        let error = #expect(throws: SelectiveTuningError.self) {
            try ParameterSelection.biases(in: model)
        }
        #expect(error == .noBiases(model: "LlamaForCausalLM"))
        let message = error?.description ?? ""
        #expect(message.contains("LoRA") && message.contains("IA3") && message.contains("pattern"))
    }

    @Test("BitFit on Qwen2 trains the attention biases alone")
    func bitFitOnQwen2() throws {
        let model = try LlamaFixtures.load("qwen2-tiny")
        let selection = try ParameterSelection.biases(in: model)
        let paths = selection.parameters.map(\.path)
        #expect(
            paths.count == 2 * 3
                && paths.allSatisfy {
                    $0.hasSuffix("_proj.bias") && $0.contains(".self_attn.")
                        && !$0.contains("o_proj")
                })
        let before = baseBits(model)
        try selection.apply(to: model)
        let optimizer = try SparseAdamW(model, selection: selection, learningRate: 5e-2)
        let losses = train(model, with: optimizer, steps: 30)
        #expect(losses.last! < losses.first! * 0.95, "\(losses.first!) → \(losses.last!)")
        let after = baseBits(model)
        for (path, bits) in before where !paths.contains(path) {
            #expect(after[path] == bits, "\(path) changed")
        }
        #expect(paths.contains { after[$0] != before[$0] })
    }
}
