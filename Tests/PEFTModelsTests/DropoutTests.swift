import PEFTModels
import PEFTNN
import PEFTTensor
import PEFTTestSupport
import Testing

/// A tiny GPT-2 with the given dropout probabilities, in training mode.
private func tinyGPT2(attentionDropout: Float, residualDropout: Float) -> GPT2LMHeadModel {
    GPT2LMHeadModel(
        configuration: GPT2Configuration {
            $0.vocabularySize = 32
            $0.maximumPositions = 16
            $0.embeddingSize = 16
            $0.layerCount = 2
            $0.headCount = 2
            $0.residualDropout = residualDropout
            $0.embeddingDropout = residualDropout
            $0.attentionDropout = attentionDropout
            $0.initializerRange = 0.2
        }, seed: 1)
}

/// A tiny T5 with the given dropout rate, in training mode.
private func tinyT5(dropout: Float) -> T5ForConditionalGeneration {
    T5ForConditionalGeneration(
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
            $0.dropoutRate = dropout
        }, seed: 1)
}

private let tokens = [[1, 5, 9, 2, 7, 3], [4, 4, 8, 1, 0, 2]]

/// Every dropout of `model` with its path.
private func dropouts(of model: Module) -> [(path: String, dropout: Dropout)] {
    model.namedModules().compactMap { path, module in (module as? Dropout).map { (path, $0) } }
}

/// One mask from each of `model`'s dropouts, all for the same input.
private func masks(of model: Module) -> [[Float]] {
    let ones = Tensor.ones([2, 3, 8])
    return dropouts(of: model).map { $0.dropout(ones).scalars }
}

/// The T5 logits for `tokens` against a fixed decoder input.
private func logits(_ model: T5ForConditionalGeneration) -> Tensor {
    model(inputIDs: tokens, decoderInputIDs: [[0, 4, 9], [0, 2, 2]])
}

@Suite("Dropout in the models")
struct ModelDropoutTests {
    @Test("Distinct dropout layers of a fresh GPT-2 or T5 draw distinct masks")
    func distinctMasks() {
        // GPT-2: drop, and per block attn_dropout, resid_dropout and the MLP's. T5: per stack one, per
        // attention or feed-forward sublayer the residual dropout and one inside it.
        let models: [(model: Module, dropouts: Int)] = [
            (tinyGPT2(attentionDropout: 0.5, residualDropout: 0.5), 1 + 2 * 3),
            (tinyT5(dropout: 0.5), (1 + 2 * 4) + (1 + 2 * 6)),
        ]
        for (model, count) in models {
            let drawn = masks(of: model)
            #expect(drawn.count == count)
            // Same-shaped inputs, same probability: only the seeds can tell the layers apart.
            #expect(Set(drawn).count == drawn.count, "\(type(of: model)): some layers share masks")
        }
    }

    @Test("Reseeding with one seed replays every dropout's masks, and another seed draws others")
    func reseedingReplays() {
        let model = tinyGPT2(attentionDropout: 0.5, residualDropout: 0.5)
        model.reseedDropouts(seed: 3)
        let first = masks(of: model)
        #expect(masks(of: model) != first)  // each layer moves on to new masks
        model.reseedDropouts(seed: 3)
        #expect(masks(of: model) == first)
        model.reseedDropouts(seed: 4)
        let other = masks(of: model)
        #expect(zip(other, first).allSatisfy { $0 != $1 })
        let t5 = tinyT5(dropout: 0.3)
        t5.reseedDropouts(seed: 3)
        let logitsBefore = logits(t5)
        t5.reseedDropouts(seed: 3)
        #expect(logits(t5).scalars == logitsBefore.scalars)
    }

    @Test("GPT-2's attn_pdrop drops attention weights while training, reproducibly after reseeding")
    func gpt2AttentionDropout() {
        let plain = tinyGPT2(attentionDropout: 0, residualDropout: 0)
        let dropped = tinyGPT2(attentionDropout: 0.5, residualDropout: 0)
        #expect(maxAbsoluteDifference(dropped(tokens), plain(tokens)) > 1e-2)
        dropped.reseedDropouts(seed: 7)
        let first = dropped(tokens)
        dropped.reseedDropouts(seed: 7)
        #expect(dropped(tokens).scalars == first.scalars)
        plain.eval()
        dropped.eval()
        #expect(dropped(tokens).scalars == plain(tokens).scalars)
    }

    @Test("T5 drops attention weights at dropout_rate while training, reproducibly after reseeding")
    func t5AttentionDropout() {
        let model = tinyT5(dropout: 0.5)
        model.eval()
        let evaluation = logits(model)
        model.train()
        // Only the dropouts inside attention stay in training mode.
        let attentionDropouts = dropouts(of: model).filter {
            $0.path.hasSuffix("attention_dropout")
        }
        #expect(attentionDropouts.count == 2 + 2 * 2)  // encoder self, decoder self and cross
        for (path, dropout) in dropouts(of: model) where !path.hasSuffix("attention_dropout") {
            dropout.eval()
        }
        model.reseedDropouts(seed: 7)
        let first = logits(model)
        #expect(maxAbsoluteDifference(first, evaluation) > 1e-2)
        model.reseedDropouts(seed: 7)
        #expect(logits(model).scalars == first.scalars)
    }

    @Test("With attention dropout configured, evaluation still gives transformers' logits")
    func evaluationParity() throws {
        let gpt2Reference = try GPT2LMHeadModel(contentsOf: ParityFixture.folder("gpt2-tiny"))
        var gpt2Configuration = gpt2Reference.configuration
        gpt2Configuration.attentionDropout = 0.5
        let gpt2 = GPT2LMHeadModel(configuration: gpt2Configuration)
        copyParameters(from: gpt2Reference, to: gpt2)
        gpt2.eval()
        for parity in try ParityFixture("gpt2-tiny").cases {
            let logits = gpt2(parity.inputIDs, attentionMask: parity.attentionMask)
            let difference = maxDifferenceOverValidPositions(logits.scalars, parity)
            #expect(difference <= 1e-4, "gpt2-tiny \(parity.name): max |Δ| \(difference)")
        }
        let t5Reference = try T5ForConditionalGeneration(
            contentsOf: ParityFixture.folder("t5-v1_0-tiny"))
        var t5Configuration = t5Reference.configuration
        t5Configuration.dropoutRate = 0.5
        let t5 = T5ForConditionalGeneration(configuration: t5Configuration)
        copyParameters(from: t5Reference, to: t5)
        t5.eval()
        for parity in try ParityFixture("t5-v1_0-tiny").cases {
            let logits = t5(
                inputIDs: parity.inputIDs, attentionMask: parity.attentionMask,
                decoderInputIDs: parity.decoderInputIDs!)
            let difference = maxDifferenceOverValidPositions(logits.scalars, parity)
            #expect(difference <= 1e-4, "t5-v1_0-tiny \(parity.name): max |Δ| \(difference)")
        }
    }
}

/// Gives `target` the parameter values of `source`, path by path.
private func copyParameters(from source: Module, to target: Module) {
    let values = Dictionary(
        uniqueKeysWithValues: source.namedParameters().map { ($0.path, $0.parameter.value) })
    for (path, parameter) in target.namedParameters() { parameter.assign(values[path]!) }
}
