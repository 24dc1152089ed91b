import Foundation
import PEFT
import PEFTTestSupport
import Testing

/// Writes adapters trained here, with the logits this library computes, for
/// `Scripts/fixtures/check_swift_adapters.py` to load in Python `peft` and compare.
///
/// The folders go to `$PEFT_EXPORT_DIR` when it is set (the by-hand check), otherwise to a temporary
/// folder, where the test still proves that each export reloads here with the same logits.
@Suite("Adapters for Python")
struct PythonInteropExportTests {
    struct Case: Sendable, CustomStringConvertible {
        let name: String
        let baseModel: String
        let configure: @Sendable (inout LoRAConfiguration) -> Void
        var prompt: (@Sendable () -> any PEFTConfiguration)? = nil
        var description: String { name }

        init(
            name: String, baseModel: String,
            configure: @escaping @Sendable (inout LoRAConfiguration) -> Void
        ) {
            self.name = name
            self.baseModel = baseModel
            self.configure = configure
        }

        init(
            name: String, baseModel: String, prompt: @escaping @Sendable () -> any PEFTConfiguration
        ) {
            self.name = name
            self.baseModel = baseModel
            self.configure = { _ in }
            self.prompt = prompt
        }
    }

    static let cases: [Case] = [
        Case(name: "swift-lora-gpt2", baseModel: "gpt2-tiny") {
            $0.rank = 4
            $0.alpha = 8
            $0.targets = .suffixes(["c_attn", "c_proj"])
        },
        Case(name: "swift-lora-gpt2-dora-rslora", baseModel: "gpt2-tiny") {
            $0.rank = 4
            $0.alpha = 16
            $0.useDoRA = true
            $0.useRSLoRA = true
            $0.bias = .loraOnly
        },
        Case(name: "swift-lora-t5-all-linear", baseModel: "t5-v1_1-tiny") {
            $0.rank = 2
            $0.alpha = 4
            $0.targets = .allLinear
            $0.modulesToSave = ["final_layer_norm"]
        },
        Case(name: "swift-prompt-tuning-gpt2", baseModel: "gpt2-tiny") {
            PromptTuningConfiguration(virtualTokens: 4)
        },
        Case(name: "swift-p-tuning-lstm-gpt2", baseModel: "gpt2-tiny") {
            PTuningConfiguration(virtualTokens: 3, encoderType: .lstm, encoderHiddenSize: 8)
        },
        Case(name: "swift-prefix-projection-gpt2", baseModel: "gpt2-tiny") {
            PrefixTuningConfiguration(virtualTokens: 4, usesProjection: true, encoderHiddenSize: 8)
        },
        Case(name: "swift-p-tuning-t5", baseModel: "t5-v1_0-tiny") {
            PTuningConfiguration(virtualTokens: 3)
        },
        Case(name: "swift-prefix-tuning-t5", baseModel: "t5-v1_0-tiny") {
            PrefixTuningConfiguration(virtualTokens: 4)
        },
        Case(name: "swift-ia3-gpt2", baseModel: "gpt2-tiny") { IA3Configuration() },
        Case(name: "swift-ia3-t5", baseModel: "t5-v1_1-tiny") { IA3Configuration() },
    ]

    @Test("Exported adapters reload here with the logits written beside them", arguments: cases)
    func export(testCase: Case) throws {
        let root =
            ProcessInfo.processInfo.environment["PEFT_EXPORT_DIR"].map { URL(fileURLWithPath: $0) }
            ?? testScratchRoot.appendingPathComponent(
                "peft-export-\(UUID().uuidString)")
        let folder = root.appendingPathComponent(testCase.name)
        let fixture = try ParityFixture(testCase.baseModel)
        let parity = fixture.cases[0]
        let loaded = try FixtureModels.load(testCase.baseModel)
        let base = FixtureModels.module(loaded)
        base.eval()
        let taskType = testCase.baseModel.hasPrefix("t5") ? "SEQ_2_SEQ_LM" : "CAUSAL_LM"
        let peft: any PEFTModelProtocol
        if let prompt = testCase.prompt {
            var configuration = prompt()
            configuration.baseModelNameOrPath = testCase.baseModel
            configuration.taskType = taskType
            peft = try makePEFTModel(base, configuration: configuration)
            var generator = RandomGenerator(seed: 23)
            for parameter in peft.trainableParameters {
                let noise = Tensor.normal(
                    parameter.shape, standardDeviation: 0.4, using: &generator)
                parameter.assign(withoutGradients { parameter.value + noise })
            }
        } else {
            var configuration = LoRAConfiguration(testCase.configure)
            configuration.baseModelNameOrPath = testCase.baseModel
            configuration.taskType = taskType
            peft = try makePEFTModel(base, configuration: configuration)
            randomizeAdapters(peft, seed: 21)
        }
        let logits = FixtureModels.logits(peft, parity)
        let plain = try peft.withAdaptersDisabled { FixtureModels.logits(loaded, parity) }
        #expect(maxAbsoluteDifference(logits, plain) > 1e-2)
        try peft.save(to: folder)
        let record: [String: Any] = [
            "base_model": testCase.baseModel, "input_ids": parity.inputIDs,
            "attention_mask": parity.attentionMask,
            "decoder_input_ids": parity.decoderInputIDs as Any, "logits_shape": logits.shape,
            "logits": logits.scalars.map { Double($0) },
        ]
        try JSONSerialization.data(withJSONObject: record).write(
            to: folder.appendingPathComponent("swift_logits.json"))

        if testCase.prompt == nil {
            // The merged model as a Hugging Face folder, which `transformers` loads without peft.
            let mergedFolder = root.appendingPathComponent(testCase.name + "-merged")
            try peft.mergeAndUnload()
            try loaded.save(to: mergedFolder)
            var mergedRecord = record
            mergedRecord["base_model"] = nil
            try JSONSerialization.data(withJSONObject: mergedRecord)
                .write(to: mergedFolder.appendingPathComponent("swift_logits.json"))
            expectClose(FixtureModels.logits(loaded, parity), logits, tolerance: 1e-5)
        }

        let reloadedBase = try FixtureModels.load(testCase.baseModel)
        FixtureModels.module(reloadedBase).eval()
        let reloaded = try loadPEFTModel(FixtureModels.module(reloadedBase), from: folder)
        let reloadedLogits = FixtureModels.logits(reloaded, parity)
        expectClose(reloadedLogits, logits, tolerance: 1e-5)
    }

    /// Llama-family cases: `LoadedModel` does not know the family, so these load
    /// `LlamaForCausalLM` directly.
    static let llamaCases: [Case] = [
        Case(name: "swift-lora-llama-all-linear", baseModel: "llama-tiny") {
            $0.rank = 4
            $0.alpha = 8
            $0.targets = .allLinear
        },
        Case(name: "swift-lora-qwen2-dora", baseModel: "qwen2-tiny") {
            $0.rank = 4
            $0.alpha = 8
            $0.targets = .allLinear
            $0.useDoRA = true
        },
        Case(name: "swift-lora-qwen3-rslora", baseModel: "qwen3-tiny") {
            $0.rank = 4
            $0.alpha = 16
            $0.useRSLoRA = true
        },
        Case(name: "swift-ia3-llama", baseModel: "llama-tiny") { IA3Configuration() },
        Case(name: "swift-ia3-qwen2", baseModel: "qwen2-tiny") { IA3Configuration() },
        Case(name: "swift-prefix-tuning-llama", baseModel: "llama-tiny") {
            PrefixTuningConfiguration(virtualTokens: 4)
        },
        Case(name: "swift-prefix-projection-qwen3", baseModel: "qwen3-tiny") {
            PrefixTuningConfiguration(virtualTokens: 4, usesProjection: true, encoderHiddenSize: 8)
        },
        Case(name: "swift-prompt-tuning-qwen2", baseModel: "qwen2-tiny") {
            PromptTuningConfiguration(virtualTokens: 4)
        },
        Case(name: "swift-p-tuning-mistral", baseModel: "mistral-tiny") {
            PTuningConfiguration(virtualTokens: 3, encoderType: .mlp, encoderHiddenSize: 8)
        },
    ]

    @Test(
        "Exported Llama-family adapters reload here with the logits written beside them",
        arguments: llamaCases)
    func exportLlama(testCase: Case) throws {
        let root =
            ProcessInfo.processInfo.environment["PEFT_EXPORT_DIR"].map { URL(fileURLWithPath: $0) }
            ?? testScratchRoot.appendingPathComponent(
                "peft-export-\(UUID().uuidString)")
        let folder = root.appendingPathComponent(testCase.name)
        // The right-padded case, so padding is checked on the Python side too.
        let parity = try ParityFixture(testCase.baseModel).cases[1]
        let model = try LlamaFixtures.load(testCase.baseModel)
        let peft: PEFTModel<LlamaForCausalLM>
        if let prompt = testCase.prompt {
            var configuration = prompt()
            configuration.baseModelNameOrPath = testCase.baseModel
            configuration.taskType = "CAUSAL_LM"
            peft = try PEFTModel(model, configuration: configuration)
            var generator = RandomGenerator(seed: 24)
            for parameter in peft.trainableParameters {
                let noise = Tensor.normal(
                    parameter.shape, standardDeviation: 0.4, using: &generator)
                parameter.assign(withoutGradients { parameter.value + noise })
            }
        } else {
            var configuration = LoRAConfiguration(testCase.configure)
            configuration.baseModelNameOrPath = testCase.baseModel
            configuration.taskType = "CAUSAL_LM"
            peft = try PEFTModel(model, configuration: configuration)
            randomizeAdapters(peft, seed: 22)
        }
        let logits = LlamaFixtures.logits(peft, parity)
        let plain = try peft.withAdaptersDisabled { LlamaFixtures.logits(model, parity) }
        #expect(maxAbsoluteDifference(logits, plain) > 1e-2)
        try peft.save(to: folder)
        let record: [String: Any] = [
            "base_model": testCase.baseModel, "input_ids": parity.inputIDs,
            "attention_mask": parity.attentionMask, "logits_shape": logits.shape,
            "logits": logits.scalars.map { Double($0) },
        ]
        try JSONSerialization.data(withJSONObject: record).write(
            to: folder.appendingPathComponent("swift_logits.json"))

        if testCase.prompt == nil {
            // The merged model as a Hugging Face folder, which `transformers` loads without peft.
            let mergedFolder = root.appendingPathComponent(testCase.name + "-merged")
            try peft.mergeAndUnload()
            try model.save(to: mergedFolder)
            var mergedRecord = record
            mergedRecord["base_model"] = nil
            try JSONSerialization.data(withJSONObject: mergedRecord)
                .write(to: mergedFolder.appendingPathComponent("swift_logits.json"))
            expectClose(LlamaFixtures.logits(model, parity), logits, tolerance: 1e-4)
        }

        let reloaded = try PEFTModel.load(
            try LlamaFixtures.load(testCase.baseModel), from: folder)
        let reloadedLogits = LlamaFixtures.logits(reloaded, parity)
        #expect(maxAbsoluteDifference(reloadedLogits, logits) <= 1e-5)
    }
}
