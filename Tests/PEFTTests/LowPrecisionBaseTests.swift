import Foundation
import PEFT
import PEFTTestSupport
import Testing

private func compressibleGPT2(seed: UInt64 = 3, dropout: Float = 0) -> GPT2LMHeadModel {
    GPT2LMHeadModel(
        configuration: GPT2Configuration {
            $0.vocabularySize = 40
            $0.maximumPositions = 16
            $0.embeddingSize = 64
            $0.layerCount = 2
            $0.headCount = 2
            $0.initializerRange = 0.3
            $0.residualDropout = dropout
            $0.embeddingDropout = dropout
            $0.attentionDropout = dropout
        }, seed: seed)
}

private func compressibleLlama(seed: UInt64 = 4) -> LlamaForCausalLM {
    LlamaForCausalLM(
        configuration: LlamaConfiguration {
            $0.vocabularySize = 40
            $0.hiddenSize = 64
            $0.intermediateSize = 96
            $0.layerCount = 2
            $0.headCount = 4
            $0.keyValueHeads = 2
            $0.maximumPositions = 16
            $0.initializerRange = 0.3
        }, seed: seed)
}

private var tokens: DecoderInputs {
    DecoderInputs(tokenIDs: [[1, 5, 9, 2, 7, 3], [4, 8, 8, 0, 39, 12]])
}

/// Copies every low-precision matrix of `compressed`, dequantised, into the same path of `dense`.
private func copyDequantized(from compressed: Module, into dense: Module) throws {
    let values = Dictionary(
        uniqueKeysWithValues: compressed.namedParameters().map { ($0.path, $0.parameter.value) })
    try dense.loadStateDict(values)
}

@Suite("A low-precision frozen base")
struct LowPrecisionBaseTests {
    @Test(
        "Every weight matrix of a model built under withFrozenWeights is stored in that format",
        arguments: [FrozenWeightFormat.bf16, .int8, .nf4])
    func matricesAreCompressed(format: FrozenWeightFormat) {
        let model = withFrozenWeights(format) { compressibleGPT2() }
        for (path, parameter) in model.namedParameters() {
            let isMatrix = path.hasSuffix(".weight") && parameter.shape.count == 2
            #expect(parameter.storageFormat == (isMatrix ? format : .fp32), "\(path)")
            #expect(parameter.isTrainable == !isMatrix, "\(path)")
        }
        let dense = compressibleGPT2()
        let stored = model.parameters.reduce(0) { $0 + $1.byteCount }
        let full = dense.parameters.reduce(0) { $0 + $1.byteCount }
        #expect(
            Double(stored) < Double(full) * (format == .nf4 ? 0.2 : format == .int8 ? 0.4 : 0.55))
    }

    @Test(
        "Logits over a low-precision base equal the fp32 model holding the same values (1e-4)",
        arguments: [FrozenWeightFormat.bf16, .int8, .nf4])
    func logitsMatchDequantizedModel(format: FrozenWeightFormat) throws {
        let gpt2 = withFrozenWeights(format) { compressibleGPT2() }
        let denseGPT2 = compressibleGPT2(seed: 99)
        try copyDequantized(from: gpt2, into: denseGPT2)
        expectClose(gpt2.logits(tokens), denseGPT2.logits(tokens), tolerance: 1e-4)
        let llama = withFrozenWeights(format) { compressibleLlama() }
        let denseLlama = compressibleLlama(seed: 99)
        try copyDequantized(from: llama, into: denseLlama)
        expectClose(llama.logits(tokens), denseLlama.logits(tokens), tolerance: 1e-4)
    }

    @Test("A checkpoint loads into a bf16 base exactly as its bf16-rounded values (1e-4 logits)")
    func loadingCompressesAsItReads() throws {
        let folder = Fixtures.url("gpt2-tiny")
        let loaded = try LoadedModel(contentsOf: folder, baseFormat: .bf16)
        let dense = try LoadedModel(contentsOf: folder)
        for (path, parameter) in dense.model.namedParameters() where parameter.shape.count == 2 {
            let rounded = Tensor(
                shape: parameter.shape,
                scalars: parameter.value.scalars.map {
                    BFloat16Bits.float(BFloat16Bits.rounding($0))
                })
            try dense.model.loadStateDict([path: rounded], strict: false)
        }
        let ids = DecoderInputs(tokenIDs: [[1, 2, 3, 4]])
        expectClose(loaded.causal!.logits(ids), dense.causal!.logits(ids), tolerance: 1e-4)
        #expect(loaded.model.parameters.contains { $0.storageFormat == .bf16 })
    }

    @Test("LoRA trains over an NF4 base: gradients reach the adapter, the base stays as stored")
    func loraOverNF4() throws {
        let model = withFrozenWeights(.nf4) { compressibleGPT2() }
        let before = model.namedParameters().filter { $0.parameter.lowPrecision != nil }
            .map { $0.parameter.value.scalars }
        let peft = try model.applyLoRA(rank: 2, targets: .suffixes(["c_attn", "c_fc"]))
        let labels = tokens.tokenIDs
        causalLanguageModelingLoss(logits: peft.logits(tokens), labels: labels).backward()
        let trainable = peft.trainableParameters
        #expect(!trainable.isEmpty && trainable.allSatisfy { $0.gradient != nil })
        let after = model.namedParameters().filter { $0.parameter.lowPrecision != nil }
            .map { $0.parameter.value.scalars }
        #expect(before == after)
    }

    @Test("Gradient checkpointing gives the same loss and LoRA gradients, dropout included")
    func checkpointingReplaysExactly() throws {
        func gradients(checkpointing: Bool, llama: Bool) throws -> (Float, [[Float]]) {
            // The adapted tree is the base's own: LoRA layers replace its linears in place.
            func adapted<Base: Module & CausalLanguageModel>(_ base: Base) throws -> (
                Module, CausalLanguageModel
            ) {
                try base.applyLoRA(rank: 2, dropout: 0.2) { $0.initialization = .gaussian }
                return (base, base)
            }
            let (peft, base) =
                try llama ? adapted(compressibleLlama()) : adapted(compressibleGPT2(dropout: 0.1))
            #expect(peft.useGradientCheckpointing(checkpointing) == 1)
            peft.train(true)
            peft.reseedDropouts(seed: 11)
            let loss = causalLanguageModelingLoss(
                logits: base.logits(tokens), labels: tokens.tokenIDs)
            loss.backward()
            return (loss.scalar, peft.trainableParameters.map { $0.gradient!.scalars })
        }
        for llama in [false, true] {
            let (plainLoss, plain) = try gradients(checkpointing: false, llama: llama)
            let (replayedLoss, replayed) = try gradients(checkpointing: true, llama: llama)
            #expect(abs(plainLoss - replayedLoss) < 1e-6)
            #expect(plain.count == replayed.count)
            for (a, b) in zip(plain, replayed) { expectClose(a, b, tolerance: 1e-5) }
        }
    }

    @Test("Merging into an NF4 base dequantises, adds and quantises again")
    func mergeIntoNF4() throws {
        let model = withFrozenWeights(.nf4) { compressibleGPT2() }
        let dense = compressibleGPT2(seed: 99)
        try copyDequantized(from: model, into: dense)
        let peft = try model.applyLoRA(rank: 2)
        let densePEFT = try dense.applyLoRA(rank: 2)
        for (index, (parameter, denseParameter)) in zip(
            model.trainableParameters, dense.trainableParameters
        ).enumerated() where parameter.shape.count == 2 {
            let value = randomTensor(parameter.shape, seed: UInt64(index), in: -0.2..<0.2)
            parameter.assign(value)
            denseParameter.assign(value)
        }
        let before = Dictionary(
            uniqueKeysWithValues: model.namedParameters().map { ($0.path, $0.parameter.value) })
        try peft.merge()
        try densePEFT.merge()
        let merged = Dictionary(
            uniqueKeysWithValues: dense.namedParameters().map { ($0.path, $0.parameter.value) })
        var changed = 0
        for (path, parameter) in model.namedParameters() where parameter.lowPrecision != nil {
            #expect(parameter.storageFormat == .nf4, "\(path)")
            let expected = try #require(merged[path])
            // Each merged value is W + ΔW rounded to its block's NF4 grid: within half the widest gap
            // between levels (0.16) times the block's absmax.
            let bound = 0.17 * expected.scalars.map(abs).max()!
            #expect(maxAbsoluteDifference(parameter.value, expected) <= bound, "\(path)")
            if parameter.value.scalars != before[path]!.scalars { changed += 1 }
        }
        #expect(changed > 0)
    }
}

@Suite("Gradient checkpointing's reach")
struct GradientCheckpointingReachTests {
    @Test("T5 has no decoder body to checkpoint: the switch reports 0")
    func t5HasNoBody() throws {
        let loaded = try LoadedModel(contentsOf: Fixtures.url("t5-v1_0-tiny"))
        #expect(loaded.model.useGradientCheckpointing() == 0)
    }
}

@Suite("The language-modelling loss without the full logits")
struct BlockedHeadLossTests {
    @Test(
        "GPT-2 and Llama: the blocked loss and LoRA gradients equal those of the full logits",
        arguments: [FrozenWeightFormat.fp32, .nf4])
    func equalsFullLogits(format: FrozenWeightFormat) throws {
        func check<Base: Module & CausalLanguageModel>(_ make: () -> Base) throws {
            func run(blocked: Bool) throws -> (Float, [[Float]]) {
                let base = withFrozenWeights(format) { make() }
                try base.applyLoRA(rank: 2) { $0.initialization = .gaussian }
                let loss =
                    blocked
                    ? base.languageModelingLoss(tokens, labels: tokens.tokenIDs)
                    : causalLanguageModelingLoss(
                        logits: base.logits(tokens), labels: tokens.tokenIDs)
                loss.backward()
                return (loss.scalar, base.trainableParameters.map { $0.gradient!.scalars })
            }
            let (blockedLoss, blocked) = try run(blocked: true)
            let (fullLoss, full) = try run(blocked: false)
            #expect(abs(blockedLoss - fullLoss) < 1e-5)
            for (a, b) in zip(blocked, full) { expectClose(a, b, tolerance: 1e-5) }
        }
        try check { compressibleGPT2() }
        try check { compressibleLlama() }
    }
}
