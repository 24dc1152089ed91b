import Foundation
import PEFTTestSupport
import Testing

@testable import PEFT

@Suite("LoRA+")
struct LoRAPlusTests {
    /// Tiny untied GPT-2 with LoRA on c_attn and on the token embedding, plus trainable ln_f (a
    /// LayerNorm) and the first block's MLP bias, so that every group has members.
    func subject() throws -> (model: GPT2LMHeadModel, peft: PEFTModel<GPT2LMHeadModel>) {
        var configuration = tinyGPT2().configuration
        configuration.tieWordEmbeddings = false
        let model = GPT2LMHeadModel(configuration: configuration, seed: 2)
        let peft = try model.applyLoRA(rank: 2, targets: .suffixes(["c_attn", "wte"]))
        randomizeAdapters(peft, seed: 6)
        for path in [
            "transformer.ln_f.weight", "transformer.ln_f.bias", "transformer.h.0.mlp.c_fc.bias",
        ] {
            let entry = try #require(model.namedParameters().first { $0.path == path })
            entry.parameter.isTrainable = true
        }
        return (model, peft)
    }

    @Test(
        "The groups are PEFT's: B at ratio × lr, embeddings at their own rate, no decay for biases and norms"
    )
    func groups() throws {
        let (model, _) = try subject()
        let loraPlus = LoRAPlus(ratio: 16, embeddingLearningRate: 5e-5, weightDecay: 0.1)
        let groups = try loraPlus.parameterGroups(in: model, learningRate: 2e-3)
        let paths = Dictionary(
            uniqueKeysWithValues: model.namedParameters().map {
                (ObjectIdentifier($0.parameter), $0.path)
            })
        let members = groups.map { Set($0.parameters.map { paths[ObjectIdentifier($0)]! }) }
        #expect(
            members[0] == [
                "transformer.h.0.attn.c_attn.lora_A.default.weight",
                "transformer.h.1.attn.c_attn.lora_A.default.weight",
            ])
        #expect(
            members[1] == [
                "transformer.wte.lora_embedding_A.default",
                "transformer.wte.lora_embedding_B.default",
            ])
        #expect(
            members[2] == [
                "transformer.h.0.attn.c_attn.lora_B.default.weight",
                "transformer.h.1.attn.c_attn.lora_B.default.weight",
            ])
        #expect(
            members[3] == [
                "transformer.ln_f.weight", "transformer.ln_f.bias", "transformer.h.0.mlp.c_fc.bias",
            ])
        let optimizer = try loraPlus.makeAdamW(for: model, learningRate: 2e-3)
        let expected: [(Float, Float)] = [
            (2e-3, 0.1), (5e-5, 0.1), (2e-3 * 16, 0.1), (2e-3 * 16, 0),
        ]
        for (group, (learningRate, weightDecay)) in zip(groups, expected) {
            for parameter in group.parameters {
                let rate = try #require(optimizer.learningRate(for: parameter))
                #expect(abs(rate - learningRate) <= 1e-6 * learningRate)
                #expect(optimizer.weightDecay(for: parameter) == weightDecay)
            }
        }
        // A schedule moves every group's rate by the same factor.
        optimizer.learningRate = 1e-3
        #expect(optimizer.learningRate(for: groups[2].parameters[0]) == 1e-3 * 16)
        #expect(optimizer.parameters.count == members.map(\.count).reduce(0, +))
    }

    @Test("One step moves each parameter by its group's hand-computed AdamW update")
    func stepMatchesHandComputedAdamW() throws {
        let (model, _) = try subject()
        model.train()
        let (learningRate, ratio, decay): (Double, Double, Double) = (1e-2, 8, 0.05)
        let loraPlus = LoRAPlus(
            ratio: Float(ratio), embeddingLearningRate: 1e-3, weightDecay: Float(decay))
        let groups = try loraPlus.parameterGroups(in: model, learningRate: Float(learningRate))
        let optimizer = try loraPlus.makeAdamW(for: model, learningRate: Float(learningRate))
        causalLanguageModelingLoss(logits: model(sampleTokens), labels: sampleTokens).backward()
        let before = optimizer.parameters.map { ($0, $0.value.scalars, $0.gradient!.scalars) }
        optimizer.step()
        let settings: [(lr: Double, decay: Double)] = [
            (learningRate, decay), (1e-3, decay), (learningRate * ratio, decay),
            (learningRate * ratio, 0),
        ]
        var moved: [Double] = Array(repeating: 0, count: 4)
        for (parameter, values, gradient) in before {
            let group = try #require(
                groups.firstIndex { $0.parameters.contains { $0 === parameter } })
            let (lr, lambda) = settings[group]
            for (index, now) in parameter.value.scalars.enumerated() {
                // First step: m̂ = g, v̂ = g², so p ← p(1 − lr·λ) − lr·g / (|g| + ε).
                let (p, g) = (Double(values[index]), Double(gradient[index]))
                let m = 0.1 * g
                let v = 0.001 * g * g
                let expected =
                    p * (1 - lr * lambda) - lr * (m / 0.1)
                    / (v.squareRoot() / 0.001.squareRoot() + 1e-8)
                #expect(abs(Double(now) - expected) <= 1e-6, "group \(group) element \(index)")
                moved[group] = max(moved[group], abs(Double(now) - p))
            }
        }
        // B moves ratio times as far as A.
        #expect(moved[2] > 0.9 * ratio * learningRate && moved[0] < 1.1 * learningRate)
    }

    @Test("Training with LoRA+ lowers the loss and leaves the frozen base bit-identical")
    func training() throws {
        let model = tinyGPT2()
        let before = baseParameterBits(model)
        let peft = try model.applyLoRA(rank: 4, targets: .suffixes(["c_attn", "c_proj"]))
        model.train()
        let optimizer = try LoRAPlus(ratio: 16).makeAdamW(for: model, learningRate: 2e-3)
        var losses: [Float] = []
        for _ in 0..<30 {
            let loss = causalLanguageModelingLoss(logits: model(sampleTokens), labels: sampleTokens)
            losses.append(loss.scalar)
            loss.backward()
            optimizer.step()
            optimizer.zeroGradients()
        }
        #expect(losses.last! < losses.first! * 0.8, "\(losses.first!) → \(losses.last!)")
        print("LoRA+ (ratio 16) training loss: \(losses.first!) → \(losses.last!) in 30 steps")
        let after = baseParameterBits(model).filter { !$0.key.contains("lora_") }
        #expect(after == before)
        #expect(peft.trainableParameters.count == 12)
    }

    @Test("Negative or non-finite LoRA+ settings throw naming PEFT's key")
    func invalidSettings() throws {
        let (model, _) = try subject()
        #expect(
            throws: AdapterError.invalidConfiguration(
                key: "loraplus_lr_ratio", reason: "must be finite and at least 0, got -1.0")
        ) { try LoRAPlus(ratio: -1).parameterGroups(in: model, learningRate: 1e-3) }
        #expect(throws: AdapterError.self) {
            try LoRAPlus(ratio: 2, weightDecay: .nan).makeAdamW(for: model, learningRate: 1e-3)
        }
        #expect(throws: AdapterError.self) {
            try LoRAPlus(ratio: 2).parameterGroups(in: model, learningRate: 1e-45)
        }
    }
}
