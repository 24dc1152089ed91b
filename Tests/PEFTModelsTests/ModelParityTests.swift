import Foundation
import PEFTModels
import PEFTNN
import PEFTTensor
import PEFTTestSupport
import Testing

@Suite("Parity with transformers")
struct ModelParityTests {
    @Test("GPT-2 logits and loss match transformers, with and without padding")
    func gpt2() throws {
        let model = try GPT2LMHeadModel(contentsOf: ParityFixture.folder("gpt2-tiny"))
        model.eval()
        let fixture = try ParityFixture("gpt2-tiny")
        #expect(fixture.cases.count == 3)
        for parity in fixture.cases {
            let logits = model(parity.inputIDs, attentionMask: parity.attentionMask)
            #expect(logits.shape == parity.logitsShape)
            let difference = maxDifferenceOverValidPositions(logits.scalars, parity)
            #expect(difference <= 1e-4, "\(parity.name): max |Δ| \(difference)")
            if let labels = parity.labels, let loss = parity.loss {
                let ours = causalLanguageModelingLoss(logits: logits, labels: labels).scalar
                #expect(abs(ours - loss) <= 1e-4, "\(parity.name): loss \(ours) vs \(loss)")
            }
        }
    }

    @Test(
        "T5 logits and loss match transformers",
        arguments: ["t5-v1_0-tiny", "t5-v1_1-tiny", "t5-v1_0-tiny-3-layers"])
    func t5(name: String) throws {
        let model = try T5ForConditionalGeneration(contentsOf: ParityFixture.folder(name))
        model.eval()
        let fixture = try ParityFixture(name)
        #expect(fixture.cases.count == 2)
        for parity in fixture.cases {
            let logits = model(
                inputIDs: parity.inputIDs, attentionMask: parity.attentionMask,
                decoderInputIDs: parity.decoderInputIDs!)
            #expect(logits.shape == parity.logitsShape)
            let difference = maxDifferenceOverValidPositions(logits.scalars, parity)
            #expect(difference <= 1e-4, "\(name) \(parity.name): max |Δ| \(difference)")
            if let labels = parity.labels, let loss = parity.loss {
                let ours = crossEntropy(logits: logits, targets: labels.flatMap { $0 }).scalar
                #expect(abs(ours - loss) <= 1e-4, "\(name) \(parity.name): loss \(ours) vs \(loss)")
            }
        }
    }

    @Test("The two T5 generations differ where they should: v1.0 ties and scales, v1.1 does not")
    func t5Variants() throws {
        let v10 = try T5ForConditionalGeneration(contentsOf: ParityFixture.folder("t5-v1_0-tiny"))
        let v11 = try T5ForConditionalGeneration(contentsOf: ParityFixture.folder("t5-v1_1-tiny"))
        #expect(v10.outputHead == nil && v10.configuration.scalesDecoderOutputs)
        #expect(v11.outputHead != nil && !v11.configuration.scalesDecoderOutputs)
        #expect(v10.encoder.blocks[0].feedForward.feedForward is T5DenseActDense)
        #expect(v11.encoder.blocks[0].feedForward.feedForward is T5DenseGatedActDense)
        let paths = v11.namedParameters().map(\.path)
        #expect(
            paths.contains("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"))
        #expect(paths.contains("decoder.block.1.layer.1.EncDecAttention.q.weight"))
        #expect(paths.contains("decoder.block.0.layer.2.DenseReluDense.wi_1.weight"))
        #expect(
            !paths.contains("encoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight"))
    }
}
